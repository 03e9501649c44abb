-- receipts_available served the delivery worker of 0003, which took due
-- receipts by available_at. Since 0004 the dispatcher routes receipts by
-- receipts_unrouted and nothing reads available_at by index, yet every
-- receipt paid an entry in it (four receipts per call). Same portability
-- rules as 0001.
DROP INDEX receipts_available;
