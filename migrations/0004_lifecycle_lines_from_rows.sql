-- ExecutionSubmitted and the end line (ExecutionSucceeded / ExecutionFailed / ExecutionTimedOut)
-- are made from the executions row when history is read (LifecycleHistory), no longer stored.
-- Rows written by earlier versions would show twice: remove them, except an end that a later
-- ExecutionResumed undid (the row no longer holds it, so that line stays stored).
DELETE FROM history WHERE type = 'ExecutionSubmitted';
DELETE FROM history
WHERE type IN ('ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut')
  AND NOT EXISTS (SELECT 1 FROM history later
                  WHERE later.execution_id = history.execution_id AND later.id > history.id AND later.type = 'ExecutionResumed');
