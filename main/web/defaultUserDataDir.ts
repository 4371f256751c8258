import os from 'node:os';
import path from 'node:path';

/** Where Electron's app.getPath('userData') points for this app, so both modes share caches. */
export function defaultUserDataDir(appName = 'pentimento'): string {
  if (process.env.PENTIMENTO_USER_DATA) return process.env.PENTIMENTO_USER_DATA;
  const home = os.homedir();
  switch (process.platform) {
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), appName);
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', appName);
    default:
      return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), appName);
  }
}
