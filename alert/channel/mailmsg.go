package channel

import (
	"bytes"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// An alert mail is plain text: Subject is the message's Title, the body its
// Text in UTF-8, quoted-printable. Message-ID is made from the message id,
// so a duplicate sent after a crash between send and mark is recognisable
// (many mail systems drop it); Auto-Submitted keeps auto-responders quiet;
// X-Dashd-Alert-Keys lists the alerts' keys for filters.

// maxSubject bounds the subject, in characters.
const maxSubject = 200

// maxKeysHeader bounds X-Dashd-Alert-Keys, in bytes.
const maxKeysHeader = 2000

// composeMail renders the message as an RFC 5322 mail with CRLF line ends.
func composeMail(m model.AlertMessage, from *mail.Address, to []*mail.Address) []byte {
	var b strings.Builder
	date := m.Time
	if date.IsZero() {
		date = time.Now()
	}
	header(&b, "Date", date.Format(time.RFC1123Z))
	header(&b, "From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header(&b, "To", strings.Join(tos, ", "))
	header(&b, "Subject", mime.QEncoding.Encode("utf-8", truncateRunes(oneLine(m.Title()), maxSubject, "…")))
	header(&b, "Message-ID", messageID(m))
	header(&b, "MIME-Version", "1.0")
	header(&b, "Content-Type", "text/plain; charset=utf-8")
	header(&b, "Content-Transfer-Encoding", "quoted-printable")
	header(&b, "Auto-Submitted", "auto-generated")
	if len(m.Alerts) > 0 {
		keys := make([]string, len(m.Alerts))
		for i, a := range m.Alerts {
			keys[i] = a.Key
		}
		v := truncateBytes(oneLine(strings.Join(keys, ", ")), maxKeysHeader, ", ...")
		header(&b, "X-Dashd-Alert-Keys", mime.QEncoding.Encode("utf-8", v))
	}
	b.WriteString("\r\n")
	var body bytes.Buffer
	qp := quotedprintable.NewWriter(&body)
	_, _ = qp.Write([]byte(m.Text())) // writes to a buffer do not fail
	_ = qp.Close()
	b.Write(body.Bytes())
	if !strings.HasSuffix(b.String(), "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// header writes one header field, folded at spaces so lines stay near 78
// characters (unfolding gives the value back).
func header(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	col := len(name) + 1
	for i, w := range strings.Split(value, " ") {
		if i > 0 && col+1+len(w) > 78 {
			b.WriteString("\r\n")
			col = 0
		}
		b.WriteString(" ")
		b.WriteString(w)
		col += 1 + len(w)
	}
	b.WriteString("\r\n")
}

// messageID is "<id@host>" from the message id and dashd's host, with any
// character a Message-ID may not hold replaced by '-'.
func messageID(m model.AlertMessage) string {
	id := atom(m.ID, "!#$%&'*+-/=?^_`{|}~.")
	host := atom(m.Host, "-.")
	if id == "" {
		id = "dashd"
	}
	if host == "" {
		host = "dashd"
	}
	return "<" + id + "@" + host + ">"
}

// atom keeps letters, digits and extra, replaces the rest with '-', and
// leaves no leading, trailing or doubled dots.
func atom(s, extra string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r < 0x80 && strings.ContainsRune(extra, r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	return strings.Trim(out, ".")
}
