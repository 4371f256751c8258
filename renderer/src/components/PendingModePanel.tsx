import { Alert, Button, Stack, TextInput } from '@mantine/core';

/**
 * Personalize (concept training) has no engine work yet: the panel says so plainly and shows
 * the controls the mode will have, disabled.
 */
export function PendingModePanel(_: { mode: 'personalize' }) {
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
