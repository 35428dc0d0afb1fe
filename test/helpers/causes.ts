/** What the causes tests read of lib/causes: one output's error line, and outputs grouped as one invocation. */
import { findErrorLines, outputLines } from '../../lib/causes/errorline';
import { CauseGrouper, createFailureReader } from '../../lib/causes/failure';

/** The content of the error line `findErrorLines` ranks first. */
export function errorLine(output: string): string | undefined {
  return findErrorLines(outputLines(output).read)[0]?.content;
}

/** Groups ECS outputs as one invocation (status Failed, the given exit code); returns each output's cause key and title. */
export function groupOutputs(outputs: readonly string[], exitCode: number | null): { key: string; title: string }[] {
  const reader = createFailureReader();
  const grouper = new CauseGrouper();
  const ids = outputs.map((o) => grouper.add('Failed', 'ExitCodeNonzero', exitCode, reader.ecs('', o)));
  const causeOf = grouper.finish();
  return ids.map((id) => {
    const { key, title } = causeOf(id);
    return { key, title };
  });
}
