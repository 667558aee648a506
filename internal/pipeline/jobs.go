package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Database is a database the queue keeps its jobs in: river's driver for
// its engine, and the database itself, on which rechecks make many jobs
// due in transactions of their own. Make one with SQLite or PostgreSQL.
type Database struct {
	driver riverdriver.Driver[*sql.Tx]
	db     *sql.DB
}

// SQLite keeps the jobs in a SQLite database: the store's writer pool,
// SQLite allowing one writer.
func SQLite(db *sql.DB) Database { return Database{riversqlite.New(db), db} }

// PostgreSQL keeps the jobs in a PostgreSQL database.
func PostgreSQL(db *sql.DB) Database { return Database{riverdatabasesql.New(db), db} }

// jobs are the orders' check jobs in river's tables, as the running
// pipeline and the CLI's inserter both handle them.
type jobs struct {
	client *river.Client[*sql.Tx]
	db     *sql.DB // the client's database
	chunk  int     // most jobs in one transaction or listing page (insertChunk)
}

// insertChunk is the most jobs inserted or made due in one transaction,
// and the page size of the listing of live jobs.
const insertChunk = 500

// insert queues checks of the orders, up to j.chunk to a transaction (a
// start with many waiting orders is not one huge transaction).
func (j jobs) insert(ctx context.Context, orderIDs []int64) error {
	for chunk := range slices.Chunk(orderIDs, j.chunk) {
		params := make([]river.InsertManyParams, len(chunk))
		for i, id := range chunk {
			params[i] = river.InsertManyParams{Args: ValidateArgs{OrderID: id}}
		}
		if _, err := j.client.InsertMany(ctx, params); err != nil {
			return err
		}
	}
	return nil
}

// liveStates are the states of a job that will still run.
var liveStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}

// live maps each of the orders (every order, when orderIDs is nil) that
// has check jobs that will still run to them, read through river's own
// listing a page at a time. A few orders are looked up one by one (a
// client asking for its order's check must not cost a listing of every
// waiting order's job); more, in one listing of all.
func (j jobs) live(ctx context.Context, orderIDs []int64) (map[int64][]*rivertype.JobRow, error) {
	params := river.NewJobListParams().Kinds(ValidateArgs{}.Kind()).States(liveStates...).First(j.chunk)
	out := map[int64][]*rivertype.JobRow{}
	if orderIDs == nil || len(orderIDs) > fewOrders {
		return out, j.list(ctx, params, out)
	}
	for _, id := range orderIDs {
		// The text of the JSON number, on SQLite (->> gives an integer)
		// and PostgreSQL (->> gives text) alike.
		one := params.Where(`CAST(args->>'order_id' AS TEXT) = @order_id`, river.NamedArgs{"order_id": strconv.FormatInt(id, 10)})
		if err := j.list(ctx, one, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fewOrders is the most orders live looks up one by one.
const fewOrders = 20

// list adds the jobs params selects to out, by order, a page at a time.
func (j jobs) list(ctx context.Context, params *river.JobListParams, out map[int64][]*rivertype.JobRow) error {
	for {
		res, err := j.client.JobList(ctx, params)
		if err != nil {
			return err
		}
		for _, row := range res.Jobs {
			var a ValidateArgs
			if err := json.Unmarshal(row.EncodedArgs, &a); err != nil {
				return fmt.Errorf("job %d: %w", row.ID, err)
			}
			out[a.OrderID] = append(out[a.OrderID], row)
		}
		if len(res.Jobs) < j.chunk {
			return nil
		}
		params = params.After(res.LastCursor)
	}
}

// recheck makes the orders' checks due now, because something they wait
// for changed (an organization decided, a domain confirmed by mail, a
// restart). An
// order whose job waits (snoozed until its next look, or retrying after
// an error) has that job made due at once; an order without a job gets
// one, and so does one whose only job is running, since that check may
// have read the order before the change. Queuing a job for each order
// instead would add a check of the order at every such event, each
// polling on its own until the order is done.
func (j jobs) recheck(ctx context.Context, orderIDs []int64) error {
	if len(orderIDs) == 0 {
		return nil
	}
	live, err := j.live(ctx, orderIDs)
	if err != nil {
		return fmt.Errorf("list queued checks: %w", err)
	}
	var missing, due []int64
	for _, id := range orderIDs {
		i := slices.IndexFunc(live[id], func(r *rivertype.JobRow) bool { return r.State != rivertype.JobStateRunning })
		if i < 0 {
			missing = append(missing, id)
		} else {
			due = append(due, live[id][i].ID)
		}
	}
	for chunk := range slices.Chunk(due, j.chunk) {
		if err := j.retry(ctx, chunk); err != nil {
			return fmt.Errorf("make checks due: %w", err)
		}
	}
	return j.insert(ctx, missing)
}

// retry makes the jobs due at once, in one transaction.
func (j jobs) retry(ctx context.Context, jobIDs []int64) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, id := range jobIDs {
		if _, err := j.client.JobRetryTx(ctx, tx, id); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("job %d: %w", id, err)
		}
	}
	return tx.Commit()
}
