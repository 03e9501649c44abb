-- Placeholder for version 13, which another branch adds. Versions have no
-- gaps, so this branch, which adds 14, needs one here; when the branches
-- meet, that branch's 0013 replaces this file (delete it: All refuses two
-- files of one version). It changes nothing.
SELECT 1;
