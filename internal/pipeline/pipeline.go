// Package pipeline runs certd's background work on a durable job queue
// (riverqueue/river, whose SQLite driver keeps jobs in certd's own
// database and whose PostgreSQL driver the scale-out work will use): the
// domain-control and CAA checks of waiting orders, retried with backoff
// until they pass and the certificate is issued, or the order expires.
//
// Jobs live in the database, so a restart loses none; at start the
// pipeline makes every waiting order's check due, queuing one for an
// order that has none, which covers an order whose job could not be
// queued when it was created.
package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivermigrate"
)

// Validator is what the pipeline drives: the order service.
type Validator interface {
	// Validate runs an order's checks once and says whether it is done
	// and, if not, when to look again.
	Validate(ctx context.Context, orderID int64) (done bool, again time.Duration, err error)
	// WaitingOrders lists the orders that wait for checks.
	WaitingOrders(ctx context.Context) ([]int64, error)
	// PublishCRLs signs fresh CRLs for every issuing CA.
	PublishCRLs(ctx context.Context) error
}

// PublishCRLsArgs is the periodic job that renews the CRLs.
type PublishCRLsArgs struct{}

// Kind implements river.JobArgs.
func (PublishCRLsArgs) Kind() string { return "publish_crls" }

type crlWorker struct {
	river.WorkerDefaults[PublishCRLsArgs]
	v Validator
}

func (w *crlWorker) Work(ctx context.Context, _ *river.Job[PublishCRLsArgs]) error {
	return w.v.PublishCRLs(ctx)
}

// CRLInterval is how often the periodic job renews the CRLs: well within
// the shortest CRL lifetime certd allows.
const CRLInterval = 12 * time.Hour

// ValidateArgs is the job that checks one order.
type ValidateArgs struct {
	OrderID int64 `json:"order_id"`
}

// Kind implements river.JobArgs.
func (ValidateArgs) Kind() string { return "validate_order" }

type validateWorker struct {
	river.WorkerDefaults[ValidateArgs]
	v       Validator
	log     *slog.Logger
	timeout time.Duration
}

// Timeout bounds one check of an order (DNS, HTTP and CAA lookups).
func (w *validateWorker) Timeout(*river.Job[ValidateArgs]) time.Duration { return w.timeout }

func (w *validateWorker) Work(ctx context.Context, job *river.Job[ValidateArgs]) error {
	done, again, err := w.v.Validate(ctx, job.Args.OrderID)
	if err != nil {
		// A fault of certd or its store: river retries with its backoff.
		w.log.Error("order check failed", "order_id", job.Args.OrderID, "attempt", job.Attempt, "err", err)
		return err
	}
	if !done {
		// Snoozing reschedules without using up attempts: an order may
		// wait for its subscriber for up to 30 days.
		return river.JobSnooze(again)
	}
	return nil
}

// Pipeline is the running job queue.
type Pipeline struct {
	client  *river.Client[*sql.Tx]
	jobs    jobs
	v       Validator
	log     *slog.Logger
	inserts *insertGroup
}

// Options configure New.
type Options struct {
	// Database is where jobs are kept: the store's own, so that queued
	// work survives restarts.
	Database  Database
	Validator Validator
	Log       *slog.Logger
	// Workers is how many orders are checked at once (default
	// DefaultWorkers).
	Workers int
	// PollInterval is how often idle workers look for due jobs (default
	// one second); a job the queue hears of is fetched sooner, at most
	// every fetchCooldown.
	PollInterval time.Duration
	// JobTimeout bounds one check of an order (default DefaultJobTimeout).
	// A job still marked running RescueFactor times this long after it
	// started belongs to a node that died, and another node takes it.
	JobTimeout time.Duration
	// NodeID names this node in the job table (river's client id, which
	// records who attempted each job); a timestamp keeps it unique when
	// two nodes share a name.
	NodeID string
}

// DefaultWorkers is how many orders a node checks at once. A check
// mostly waits (DNS, the subscriber's web server, CAA), so a few slow
// sites must not hold up everyone's orders; with 4 workers and fetches
// at least 250 ms apart a node issued at most 16 certificates a second
// (docs/benchmarks.md).
const DefaultWorkers = 64

// MaxWorkers is the most workers the job queue allows.
const MaxWorkers = river.QueueNumWorkersMax

// fetchCooldown is the shortest time between two fetches of due jobs:
// each fetch is a write to the database, and one fetch takes up to
// Workers jobs.
const fetchCooldown = 10 * time.Millisecond

// DefaultJobTimeout bounds one check of an order: DNS, HTTP and CAA
// lookups, each with its own shorter timeout, and the issuance.
const DefaultJobTimeout = 2 * time.Minute

// RescueFactor times the job timeout is how long a job may stay running
// before it is handed to another node. Above one, so that a slow job on
// a live node is never worked twice at once; river's default (an hour
// more than the timeout) would leave an order of a killed node waiting
// that long.
const RescueFactor = 2.5

// New prepares the queue, applying river's own migrations.
func New(ctx context.Context, o Options) (*Pipeline, error) {
	driver := o.Database.driver
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = DefaultJobTimeout
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &validateWorker{v: o.Validator, log: o.Log, timeout: o.JobTimeout})
	river.AddWorker(workers, &crlWorker{v: o.Validator})
	client, err := river.NewClient(driver, &river.Config{
		ID:                clientID(o.NodeID, time.Now()),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:           workers,
		FetchCooldown:     min(fetchCooldown, o.PollInterval),
		FetchPollInterval: o.PollInterval,
		Logger:            o.Log.With("component", "river"),
		MaxAttempts:       25,
		JobTimeout:        o.JobTimeout,
		// A job whose node died while working it is handed to another
		// node after this.
		RescueStuckJobsAfter: time.Duration(RescueFactor * float64(o.JobTimeout)),
		// One node (the river leader) renews the CRLs on a schedule; the
		// CRL numbers come from the database either way.
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(CRLInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PublishCRLsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})},
	})
	if err != nil {
		return nil, err
	}
	p := &Pipeline{client: client, jobs: jobs{client: client, db: o.Database.db, chunk: insertChunk}, v: o.Validator, log: o.Log}
	p.inserts = &insertGroup{insert: p.jobs.insert}
	return p, nil
}

// clientID is river's client id for a node: its name (cut to fit river's
// 100-byte limit) and the start time, as river's own default does with
// the host name.
func clientID(node string, start time.Time) string {
	if node == "" {
		node = "certd"
	}
	if len(node) > 60 {
		node = strings.ToValidUTF8(node[:60], "")
	}
	return node + "_" + start.UTC().Format("2006_01_02T15_04_05.000000")
}

// Start runs the workers and makes the check of every waiting order due
// now: the server was down, and what an order waits for (a DNS record, a
// subscriber's web page) may have appeared meanwhile. Jobs survive
// restarts, so an order's waiting job is made due rather than another
// queued (which would add a check of each waiting order at every
// restart, for up to 30 days); an order without a job, or whose only job
// was left running by a node that stopped, gets a new one (see
// jobs.recheck).
//
// This runs before the workers start, so that a job running now is not
// one of this node's: on one node it is one a crash left behind.
func (p *Pipeline) Start(ctx context.Context) error {
	ids, err := p.v.WaitingOrders(ctx)
	if err != nil {
		return fmt.Errorf("find waiting orders: %w", err)
	}
	if len(ids) > 0 {
		if err := p.jobs.recheck(ctx, ids); err != nil {
			return err
		}
		p.log.Info("resumed checks of waiting orders", "orders", len(ids))
	}
	return p.client.Start(ctx)
}

// Enqueue queues a check of a new order now, in one insert with the
// checks other requests queue at the same time.
func (p *Pipeline) Enqueue(ctx context.Context, orderID int64) error {
	return p.inserts.enqueue(ctx, orderID)
}

// Recheck asks for checks of waiting orders now, because something they
// wait for changed (see jobs.recheck).
func (p *Pipeline) Recheck(ctx context.Context, orderIDs []int64) error {
	return p.jobs.recheck(ctx, orderIDs)
}

// Stop lets running checks finish, up to ctx's deadline.
func (p *Pipeline) Stop(ctx context.Context) error {
	return p.client.Stop(ctx)
}

// Inserter queues jobs without working them: the CLI uses it so that an
// operator's decision (certd org validate) is acted on at once by the
// server, which polls the same database.
type Inserter struct {
	jobs jobs
}

// NewInserter returns an insert-only client over db, whose job tables
// the server created.
func NewInserter(db Database) (*Inserter, error) {
	client, err := river.NewClient(db.driver, &river.Config{})
	if err != nil {
		return nil, err
	}
	return &Inserter{jobs: jobs{client: client, db: db.db, chunk: insertChunk}}, nil
}

// Enqueue queues a check of a new order now.
func (i *Inserter) Enqueue(ctx context.Context, orderID int64) error {
	return i.jobs.insert(ctx, []int64{orderID})
}

// Recheck asks for checks of waiting orders now (see jobs.recheck).
func (i *Inserter) Recheck(ctx context.Context, orderIDs []int64) error {
	return i.jobs.recheck(ctx, orderIDs)
}
