-- Answering-machine detection (issue 18): the account's machine_detection
-- setting, off, detect, hangup or message (dialtone.MachineDetection).
-- Rows written before this version read as off. Same portability rules as
-- 0001.
ALTER TABLE account_settings ADD COLUMN machine_detection TEXT NOT NULL DEFAULT 'off';
