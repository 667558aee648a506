-- +goose Up
-- One partial index of the orders awaiting a certificate serves both the
-- pipeline's query (WaitingOrders, which also asks for a check to wait
-- for) and sandbox mode's resumption at start (PendingOrders); a second
-- index would cost every order write its upkeep, and PendingOrders
-- without one scans every order at start-up.
DROP INDEX orders_waiting;
CREATE INDEX orders_pending ON orders(id)
    WHERE status = 'pending issuance' OR pending_reissue IS NOT NULL;

-- +goose Down
DROP INDEX orders_pending;
CREATE INDEX orders_waiting ON orders(id)
    WHERE (dcv_method != '' OR org_id IS NOT NULL) AND (status = 'pending issuance' OR pending_reissue IS NOT NULL);
