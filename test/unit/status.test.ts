import { describe, expect, it } from 'vitest';
import { classifyStatus, invocationStatusOf, isCollectableStatus, isFinishedExecutionStatus, isFinishedInvocationStatus } from '../../lib/status';

describe('status decisions', () => {
  it('never treats an empty or absent status as final, for collect, the events or the sweep', () => {
    for (const status of ['', undefined, null, 42]) {
      expect(isCollectableStatus('oos', status)).toBe(false);
      expect(isCollectableStatus('ecs', status)).toBe(false);
      expect(isFinishedExecutionStatus(status)).toBe(false);
      expect(isFinishedInvocationStatus(status)).toBe(false);
    }
  });

  it('lets collect archive a periodic task between runs, but not the events or the sweep', () => {
    expect(isCollectableStatus('ecs', 'Scheduled')).toBe(true);
    expect(isFinishedInvocationStatus('Scheduled')).toBe(false);
    for (const active of ['Pending', 'Running', 'Stopping']) {
      expect(isCollectableStatus('ecs', active)).toBe(false);
      expect(isFinishedInvocationStatus(active)).toBe(false);
    }
    for (const final of ['Success', 'Failed', 'PartialFailed', 'Stopped']) {
      expect(isCollectableStatus('ecs', final)).toBe(true);
      expect(isFinishedInvocationStatus(final)).toBe(true);
    }
  });

  it('agrees between collect and the sweep on OOS executions', () => {
    for (const status of ['Started', 'Queued', 'Running', 'Waiting', 'Pending', 'Success', 'Failed', 'Cancelled']) {
      expect(isCollectableStatus('oos', status)).toBe(isFinishedExecutionStatus(status));
    }
    expect(isFinishedExecutionStatus('Running')).toBe(false);
    expect(isFinishedExecutionStatus('Failed')).toBe(true);
  });

  it('reads the legacy InvokeStatus when InvocationStatus is absent', () => {
    expect(invocationStatusOf({ InvokeStatus: 'Finished' })).toBe('Finished');
    expect(invocationStatusOf({ InvocationStatus: 'Failed', InvokeStatus: 'Finished' })).toBe('Failed');
    expect(invocationStatusOf({})).toBe('');
  });

  it('counts a record that has not ended as unfinished in a summary, whichever set it came from', () => {
    expect(classifyStatus('ecs', 'Stopping')).toBe('unfinished');
    expect(classifyStatus('oos', 'Waiting')).toBe('unfinished');
  });
});
