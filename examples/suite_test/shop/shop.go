// Package shop is the application code the example suite tests: a few
// functions over the users/orders schema in ../migrations. It stands for
// your own code; nothing in it knows about pgginkgo or Ginkgo.
package shop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what shop needs from a connection. *pgxpool.Pool, *pgx.Conn and
// pgx.Tx all satisfy it, so callers choose the transaction boundaries.
type DB interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrEmailTaken is returned by SignUp for an address that already has an
// account.
var ErrEmailTaken = errors.New("shop: email already registered")

// SignUp creates a user and returns its id. Addresses are compared
// case-insensitively, so they are stored lower-case.
func SignUp(ctx context.Context, db DB, email string) (int64, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return 0, fmt.Errorf("shop: %q is not an email address", email)
	}
	var id int64
	err := db.QueryRow(ctx, `insert into users (email) values ($1) returning id`, email).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return 0, ErrEmailTaken
	}
	if err != nil {
		return 0, fmt.Errorf("shop: signing up %q: %w", email, err)
	}
	return id, nil
}

// PlaceOrder records a pending order of totalCents for a user and returns
// its id. The schema rejects unknown users and non-positive totals.
func PlaceOrder(ctx context.Context, db DB, userID int64, totalCents int) (int64, error) {
	var id int64
	err := db.QueryRow(ctx,
		`insert into orders (user_id, total_cents) values ($1, $2) returning id`,
		userID, totalCents).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("shop: placing an order of %d cents for user %d: %w", totalCents, userID, err)
	}
	return id, nil
}

// Pay marks a pending order paid. Paying twice is an error, so a retried
// payment callback cannot charge a customer again.
func Pay(ctx context.Context, db DB, orderID int64) error {
	var status string
	err := db.QueryRow(ctx,
		`update orders set status = 'paid' where id = $1 and status = 'pending' returning status`,
		orderID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("shop: order %d is not pending", orderID)
	}
	if err != nil {
		return fmt.Errorf("shop: paying order %d: %w", orderID, err)
	}
	return nil
}

// Mode is the mode the application runs in, from APP_MODE; "production"
// when unset. Debug logging is on only when DEBUG is set, whatever the mode.
func Mode() (mode string, debug bool) {
	mode = os.Getenv("APP_MODE")
	if mode == "" {
		mode = "production"
	}
	_, debug = os.LookupEnv("DEBUG")
	return mode, debug
}
