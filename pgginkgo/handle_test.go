package pgginkgo_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
)

var _ = Describe("Handle", func() {
	h := &pgginkgo.Handle{
		Host: "127.0.0.1", Port: 5433, SocketDir: "/tmp/s", User: "postgres", PassFile: "/tmp/p w/pgpass",
		Version: "15.18", Database: "postgres", Templates: map[string]string{"schema": "tpl_x"},
		Env: map[string]string{"PGPORT": "5433"},
	}

	It("round-trips through its versioned JSON", func() {
		data, err := h.Encode()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring(`"format":1`))
		back, err := pgginkgo.DecodeHandle(data)
		Expect(err).NotTo(HaveOccurred())
		want := *h
		want.Format = pgginkgo.HandleFormat
		Expect(*back).To(Equal(want))
	})

	It("builds URLs that carry the passfile, escaped, and no password", func() {
		Expect(h.URL("app")).To(Equal("postgres://postgres@127.0.0.1:5433/app?passfile=%2Ftmp%2Fp+w%2Fpgpass&sslmode=disable"))
		Expect(h.URL("")).To(HavePrefix("postgres://postgres@127.0.0.1:5433/postgres?"))
		Expect(h.String()).To(Equal("pgginkgo cluster postgres@127.0.0.1:5433 (PostgreSQL 15.18)"))
	})

	DescribeTable("rejects what it cannot decode, saying what to do",
		func(input string, msg string, isFormat bool) {
			_, err := pgginkgo.DecodeHandle([]byte(input))
			Expect(err).To(MatchError(ContainSubstring(msg)))
			Expect(errors.Is(err, pgginkgo.ErrHandleFormat)).To(Equal(isFormat))
		},
		Entry("garbage", "not json at all", "not a pgginkgo handle", false),
		Entry("no format", `{"host":"x"}`, "no format field", true),
		Entry("newer format", `{"format":99,"host":"127.0.0.1","port":1,"user":"u"}`,
			"format 99 is newer than this pgginkgo understands (1); build every process of the suite with the same pgginkgo version", true),
		Entry("missing fields", `{"format":1}`, "host, port or user missing", false),
	)
})
