-- Room on each page of `orders` for its rows' next versions.
--
-- An order's row is updated once or twice while its saga runs: a reply's flag
-- (`stock_reserved`, `paid`), then its final status. An update that finds room on the row's own
-- page, and changes no indexed column, is a HOT update: one WAL record and no index entry.
-- With full pages (the default fillfactor, 100) the flag's update moved the row to another page
-- and added an entry to each of the table's six indexes. The final status is indexed
-- (`orders_by_status`, `orders_pending`), so its update adds entries either way.
ALTER TABLE orders SET (fillfactor = 75);
