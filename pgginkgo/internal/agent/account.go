package agent

import "fmt"

// Account is the unprivileged user the agent runs as when the test process
// is root.
type Account struct {
	Name     string
	UID, GID uint32
}

func (a *Account) String() string { return fmt.Sprintf("%s (uid %d)", a.Name, a.UID) }
