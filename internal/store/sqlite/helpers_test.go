package sqlite_test

import "time"

var storetestNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
