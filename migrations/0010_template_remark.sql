-- A TTS template's remark: free text for the people who manage it (what it
-- is for, who asked), never spoken. Same portability rules as 0001.
ALTER TABLE tts_templates ADD COLUMN remark TEXT NOT NULL DEFAULT '';
