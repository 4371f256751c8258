import { Alert, Button, Select, Slider, Stack, Text, TextInput } from '@mantine/core';

/**
 * Structure (ControlNet) and Personalize (concept training) have no engine work yet: the panel
 * says so plainly and shows the controls the mode will have, disabled.
 */
export function PendingModePanel({ mode }: { mode: 'structure' | 'personalize' }) {
  if (mode === 'structure') {
    return (
      <Stack gap="sm">
        <Alert color="yellow" variant="light" title="Structure is not available yet">
          Guiding a generation by the photo's edges, depth or pose needs ControlNet support in the engine, which has not
          landed in this version. Nothing here runs; the controls below show what the mode will offer.
        </Alert>
        <Select label="Control type" data={['Canny edges', 'Depth', 'Pose', 'Scribble']} defaultValue="Canny edges" disabled />
        <div>
          <Text size="sm" fw={500} c="dimmed">
            Control strength
          </Text>
          <Slider defaultValue={1} min={0} max={2} step={0.05} disabled thumbLabel="Control strength" />
        </div>
        <Button disabled>Generate with structure</Button>
      </Stack>
    );
  }
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light" title="Personalize is not available yet">
        Teaching the model a person, pet or object from a few photos needs training support in the engine, which has not
        landed in this version. Nothing here runs; the controls below show what the mode will offer.
      </Alert>
      <TextInput label="Concept name" placeholder="e.g. my-cat" disabled />
      <Button variant="default" disabled>
        Add training photos
      </Button>
      <Button disabled>Train</Button>
    </Stack>
  );
}
