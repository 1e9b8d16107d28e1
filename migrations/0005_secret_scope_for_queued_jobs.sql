-- A job resolves only the ${secrets.NAME} its definition named, listed in its payload under
-- "sluice.secrets" when it is stored (SecretScope). Jobs queued by an earlier version have no
-- list and would now send their placeholders as text: those still to run that mention a
-- secret keep the old rule, every name ("*"), which data cannot ask for (sealing drops the key).
UPDATE jobs
SET payload = json_set(payload, '$."sluice.secrets"', json_array('*'))
WHERE state IN ('scheduled', 'ready', 'running')
  AND task_type IN ('http', 'cli')
  AND instr(payload, '${secrets.') > 0
  AND json_valid(payload)
  AND json_type(payload) = 'object';
