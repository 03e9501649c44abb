-- Placeholder for version 10, which another branch (outbound account
-- settings) adds. Versions have no gaps, so this branch, which adds 11,
-- needs one here; when the branches meet, that branch's 0010 replaces this
-- file (delete it: All refuses two files of one version). It changes
-- nothing.
SELECT 1;
