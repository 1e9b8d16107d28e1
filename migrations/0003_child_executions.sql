-- Child executions (Parallel branches, Map iterations with tasks): which slot of the parent's
-- join they fill, as "generation:index".
ALTER TABLE executions ADD COLUMN parent_slot TEXT;
