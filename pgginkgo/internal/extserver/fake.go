package extserver

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Type OIDs of the one column the fake server returns.
const (
	oidInt4 = 23
	oidText = 25
)

// StartFake starts a fake server on 127.0.0.1 that speaks just enough of
// the PostgreSQL protocol to look like a server of the given version
// ("12.22", or "9.6.24" for the pre-10 numbering), for tests of the
// versions that cannot be installed on the test machine.
//
// It accepts any user and password (AuthenticationOk), reports
// server_version and server_version_num (120022 for "12.22") among the
// start-up parameters, and answers a query, simple or extended protocol,
// that asks for current_setting('server_version_num') with one row holding
// that number (as int4 when the query casts it with ::int, else as text).
// Any other query gets ErrorResponse SQLSTATE 0A000 "fake server:
// unsupported query". SSL and GSS encryption requests are declined.
//
// addr is host:port. stop closes the listener and every connection; it may
// be called more than once.
func StartFake(version string) (addr string, stop func(), err error) {
	num, err := versionNum(version)
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("extserver: fake server: listen: %w", err)
	}
	f := &fake{version: version, num: num, l: l, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.accept()
	return l.Addr().String(), f.stop, nil
}

// versionNum turns "12.22" into 120022 and "9.6.24" into 90624, the way
// PostgreSQL numbers server_version_num.
func versionNum(version string) (int, error) {
	bad := fmt.Errorf("extserver: fake server version %q: want major.minor such as \"12.22\", or major.minor.patch below 10 such as \"9.6.24\"", version)
	parts := strings.Split(version, ".")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 99 {
			return 0, bad
		}
		nums[i] = n
	}
	switch {
	case len(nums) == 2 && nums[0] >= 10:
		return nums[0]*10000 + nums[1], nil
	case len(nums) == 3 && nums[0] < 10:
		return nums[0]*10000 + nums[1]*100 + nums[2], nil
	}
	return 0, bad
}

type fake struct {
	version string
	num     int
	l       net.Listener
	wg      sync.WaitGroup

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	stopped bool
}

func (f *fake) accept() {
	defer f.wg.Done()
	for {
		c, err := f.l.Accept()
		if err != nil {
			return // the listener was closed by stop
		}
		f.mu.Lock()
		if f.stopped {
			f.mu.Unlock()
			_ = c.Close()
			return
		}
		f.conns[c] = struct{}{}
		f.wg.Add(1)
		f.mu.Unlock()
		go func() {
			defer f.wg.Done()
			defer f.forget(c)
			_ = f.serve(c)
		}()
	}
}

func (f *fake) forget(c net.Conn) {
	_ = c.Close()
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

func (f *fake) stop() {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return
	}
	f.stopped = true
	_ = f.l.Close()
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// serve runs one connection until the client terminates or it breaks.
func (f *fake) serve(c net.Conn) error {
	b := pgproto3.NewBackend(c, c)
	if err := f.startup(c, b); err != nil {
		return err
	}
	s := session{f: f, b: b, statements: map[string]string{}, portals: map[string]portal{}}
	for {
		msg, err := b.Receive()
		if err != nil {
			return err
		}
		done, err := s.handle(msg)
		if err != nil || done {
			return err
		}
	}
}

// startup declines encryption, then accepts the StartupMessage as a server
// without authentication would.
func (f *fake) startup(c net.Conn, b *pgproto3.Backend) error {
handshake:
	for {
		msg, err := b.ReceiveStartupMessage()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.Write([]byte{'N'}); err != nil {
				return err
			}
		case *pgproto3.StartupMessage:
			if m.ProtocolVersion != pgproto3.ProtocolVersion30 {
				// Servers before 18 speak protocol 3.0 only.
				b.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0})
			}
			break handshake
		default: // CancelRequest: there is nothing to cancel
			return errors.New("not a startup message")
		}
	}
	key := make([]byte, 8)
	_, _ = rand.Read(key)
	b.Send(&pgproto3.AuthenticationOk{})
	for _, p := range [][2]string{
		{"server_version", f.version},
		{"server_version_num", strconv.Itoa(f.num)},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"standard_conforming_strings", "on"},
		{"integer_datetimes", "on"},
		{"DateStyle", "ISO, MDY"},
		{"TimeZone", "UTC"},
	} {
		b.Send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	b.Send(&pgproto3.BackendKeyData{ProcessID: binary.BigEndian.Uint32(key) >> 1, SecretKey: key[4:]})
	b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return b.Flush()
}

// portal is a bound statement: its query and the result formats asked for.
type portal struct {
	query   string
	formats []int16
}

// session is one connection's protocol state.
type session struct {
	f          *fake
	b          *pgproto3.Backend
	statements map[string]string
	portals    map[string]portal
	// failed is set by an error in the extended protocol: as a server does,
	// the session then ignores messages until the next Sync.
	failed bool
}

// handle answers one message; done means the client said goodbye.
func (s *session) handle(msg pgproto3.FrontendMessage) (done bool, err error) {
	b := s.b
	switch m := msg.(type) {
	case *pgproto3.Terminate:
		return true, nil
	case *pgproto3.Sync:
		s.failed = false
		b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		return false, b.Flush()
	case *pgproto3.Flush:
		return false, b.Flush()
	case *pgproto3.Query:
		switch {
		case strings.TrimSpace(m.String) == "":
			b.Send(&pgproto3.EmptyQueryResponse{})
		case answerable(m.String):
			b.Send(s.rowDescription(m.String, nil))
			s.sendRow(m.String, nil)
		default:
			b.Send(unsupported())
		}
		b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		return false, b.Flush()
	}
	if s.failed {
		return false, nil
	}
	switch m := msg.(type) {
	case *pgproto3.Parse:
		if !answerable(m.Query) {
			s.fail(unsupported())
			return false, nil
		}
		s.statements[m.Name] = m.Query
		b.Send(&pgproto3.ParseComplete{})
	case *pgproto3.Bind:
		q, ok := s.statements[m.PreparedStatement]
		if !ok {
			s.fail(missing("prepared statement", m.PreparedStatement))
			return false, nil
		}
		s.portals[m.DestinationPortal] = portal{query: q, formats: m.ResultFormatCodes}
		b.Send(&pgproto3.BindComplete{})
	case *pgproto3.Describe:
		if m.ObjectType == 'S' {
			q, ok := s.statements[m.Name]
			if !ok {
				s.fail(missing("prepared statement", m.Name))
				return false, nil
			}
			b.Send(&pgproto3.ParameterDescription{ParameterOIDs: []uint32{}})
			b.Send(s.rowDescription(q, nil))
		} else {
			p, ok := s.portals[m.Name]
			if !ok {
				s.fail(missing("portal", m.Name))
				return false, nil
			}
			b.Send(s.rowDescription(p.query, p.formats))
		}
	case *pgproto3.Execute:
		p, ok := s.portals[m.Portal]
		if !ok {
			s.fail(missing("portal", m.Portal))
			return false, nil
		}
		s.sendRow(p.query, p.formats)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(s.statements, m.Name)
		} else {
			delete(s.portals, m.Name)
		}
		b.Send(&pgproto3.CloseComplete{})
	default:
		b.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08P01",
			Message: fmt.Sprintf("fake server: unsupported message %T", msg)})
		return true, b.Flush()
	}
	return false, nil
}

func (s *session) fail(e *pgproto3.ErrorResponse) {
	s.failed = true
	s.b.Send(e)
}

// missing is PostgreSQL's error for a prepared statement or a portal that
// the client never created: invalid_sql_statement_name (26000) or
// invalid_cursor_name (34000).
func missing(kind, name string) *pgproto3.ErrorResponse {
	code := "34000"
	if kind == "prepared statement" {
		code = "26000"
	}
	return &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code,
		Message: fmt.Sprintf("%s %q does not exist", kind, name)}
}

func unsupported() *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "0A000",
		Message: "fake server: unsupported query"}
}

// answerable reports whether query asks for server_version_num, the one
// thing the fake server knows.
func answerable(query string) bool {
	q := strings.Join(strings.Fields(strings.ToLower(query)), "")
	return strings.Contains(q, "current_setting('server_version_num')")
}

// asInt reports whether query casts the setting to an integer.
func asInt(query string) bool {
	q := strings.Join(strings.Fields(strings.ToLower(query)), "")
	return strings.Contains(q, "::int")
}

// format is the result format of the only column, from Bind's codes.
func format(formats []int16) int16 {
	if len(formats) == 0 {
		return 0
	}
	return formats[0]
}

func (s *session) rowDescription(query string, formats []int16) *pgproto3.RowDescription {
	fd := pgproto3.FieldDescription{Name: []byte("current_setting"), DataTypeOID: oidText, DataTypeSize: -1,
		TypeModifier: -1, Format: format(formats)}
	if asInt(query) {
		fd.DataTypeOID, fd.DataTypeSize = oidInt4, 4
	}
	return &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{fd}}
}

// sendRow sends the one row and its CommandComplete.
func (s *session) sendRow(query string, formats []int16) {
	v := []byte(strconv.Itoa(s.f.num))
	if asInt(query) && format(formats) == 1 {
		v = binary.BigEndian.AppendUint32(nil, uint32(s.f.num))
	}
	s.b.Send(&pgproto3.DataRow{Values: [][]byte{v}})
	s.b.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
}
