import type { Page } from 'playwright-core';

/** Roles a person operates; each needs an accessible name for a screen reader to announce it. */
const CONTROL_ROLES = new Set([
  'button',
  'checkbox',
  'combobox',
  'link',
  'listbox',
  'menuitem',
  'option',
  'radio',
  'searchbox',
  'slider',
  'spinbutton',
  'switch',
  'tab',
  'textbox',
]);

/**
 * The controls in Chromium's accessibility tree (what assistive technology sees, after ARIA and
 * label association) that have no accessible name, as "role (html tag#id)".
 */
export async function namelessControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string }; name?: { value: string }; backendDOMNodeId?: number }[];
    };
    const nameless: string[] = [];
    for (const n of nodes) {
      const role = n.role?.value ?? '';
      if (n.ignored || !CONTROL_ROLES.has(role) || (n.name?.value ?? '').trim() !== '') continue;
      let where = '';
      if (n.backendDOMNodeId !== undefined) {
        const { node } = (await cdp.send('DOM.describeNode', { backendNodeId: n.backendDOMNodeId })) as { node: { localName: string; attributes?: string[] } };
        const attrs = node.attributes ?? [];
        const id = attrs[attrs.indexOf('id') + 1];
        where = ` (${node.localName}${attrs.includes('id') ? `#${id}` : ''})`;
      }
      nameless.push(`${role}${where}`);
    }
    return nameless;
  } finally {
    await cdp.detach();
  }
}
