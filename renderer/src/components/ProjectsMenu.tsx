import { Button, Group, Image, Menu, Text } from '@mantine/core';
import { useState } from 'react';
import type { ProjectSummary } from '../../../main/contract/contract';

export interface ProjectsMenuProps {
  current: ProjectSummary | null;
  list: () => Promise<ProjectSummary[]>;
  onOpen: (id: string) => void;
}

/** The project switcher: every project, newest activity first, with its thumbnail. */
export function ProjectsMenu({ current, list, onOpen }: ProjectsMenuProps) {
  const [projects, setProjects] = useState<ProjectSummary[] | null>(null);
  return (
    <Menu
      width={300}
      position="bottom-end"
      onOpen={() => {
        setProjects(null);
        list().then(setProjects, () => setProjects([]));
      }}
    >
      <Menu.Target>
        <Button variant="default" aria-label="Projects" rightSection={<span aria-hidden>▾</span>} maw={260}>
          <Text size="sm" truncate>
            {current ? current.name : 'Projects'}
          </Text>
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Projects</Menu.Label>
        {projects === null && <Menu.Item disabled>Loading…</Menu.Item>}
        {projects?.length === 0 && <Menu.Item disabled>No projects yet: open a photo.</Menu.Item>}
        {projects?.map((p) => (
          <Menu.Item
            key={p.id}
            onClick={() => onOpen(p.id)}
            leftSection={
              p.thumbnail ? (
                <Image src={`data:image/png;base64,${p.thumbnail.pngBase64}`} alt="" w={40} h={40} fit="cover" radius="sm" />
              ) : undefined
            }
            aria-current={p.id === current?.id ? 'true' : undefined}
          >
            <Group gap={4} wrap="nowrap" justify="space-between">
              <Text size="sm" fw={p.id === current?.id ? 600 : 400} truncate>
                {p.name}
              </Text>
            </Group>
            <Text size="xs" c="dimmed">
              {p.width}×{p.height} · {p.resultCount} result{p.resultCount === 1 ? '' : 's'} · {new Date(p.updatedAt).toLocaleString()}
            </Text>
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
