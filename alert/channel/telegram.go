package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// TelegramSpec configures a Telegram bot channel: sendMessage of the Bot
// API to one chat.
type TelegramSpec struct {
	// BotToken is the token @BotFather gave ("123456:ABC-..."); use ${VAR}.
	BotToken string `yaml:"bot_token"`
	// ChatID is the chat's number (-1001234567890 for a group or channel)
	// or a public channel's @name.
	ChatID string `yaml:"chat_id"`
	// APIURL is the Bot API server (default https://api.telegram.org; a
	// local Bot API server, or a test's).
	APIURL             string `yaml:"api_url"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// DefaultTelegramAPI is Telegram's Bot API server.
const DefaultTelegramAPI = "https://api.telegram.org"

// telegramMaxText is the longest text sendMessage takes, in UTF-16 code
// units after entities are parsed.
const telegramMaxText = 4096

var (
	telegramTokenRE = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	telegramChatRE  = regexp.MustCompile(`^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{3,31})$`)
)

func newTelegramSpec() *TelegramSpec { return &TelegramSpec{APIURL: DefaultTelegramAPI} }

// Validate reports problems with positions. It never quotes the token.
func (t *TelegramSpec) Validate(s config.Scope) {
	switch {
	case t.BotToken == "":
		s.Required("bot_token", true)
	case !telegramTokenRE.MatchString(t.BotToken):
		s.Errorf("bot_token", "is not a bot token such as 123456:ABC-DEF... (from @BotFather)")
	}
	switch {
	case t.ChatID == "":
		s.Required("chat_id", true)
	case !telegramChatRE.MatchString(t.ChatID):
		s.Errorf("chat_id", "must be a chat number such as -1001234567890 or a channel's @name, got %q", t.ChatID)
	}
	validateHTTPURL(s, "api_url", t.APIURL, plainURL)
	validateTLS(s, t.CAFile, t.InsecureSkipVerify)
}

func (t *TelegramSpec) describe() string {
	return fmt.Sprintf("telegram to chat %s via %s", t.ChatID, hostOf(t.APIURL))
}

type telegram struct {
	url    string
	chatID any // a number, or an @name
	http   *httpTarget
}

var _ Sender = (*telegram)(nil)

func (t *TelegramSpec) build(_ config.Channel, o Options) (Sender, error) {
	api := t.APIURL
	if api == "" {
		api = DefaultTelegramAPI
	}
	full := joinURL(api, "bot"+t.BotToken+"/sendMessage")
	shown := joinURL(config.RedactURL(api), "bot"+config.Redacted+"/sendMessage")
	secrets := []string{t.BotToken, urlPassword(api)}
	if _, secret, ok := strings.Cut(t.BotToken, ":"); ok {
		secrets = append(secrets, secret)
	}
	ht, err := newHTTPTarget(t.CAFile, t.InsecureSkipVerify, o, shown, secrets...)
	if err != nil {
		return nil, err
	}
	tg := &telegram{url: full, chatID: t.ChatID, http: ht}
	if n, err := strconv.ParseInt(t.ChatID, 10, 64); err == nil {
		tg.chatID = n
	}
	return tg, nil
}

// telegramEscape escapes what Telegram's HTML parse mode reads as markup.
func telegramEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// telegramText is the message in Telegram's HTML: the title in bold, then
// the text, cut to 4096 characters with a marker. It is cut before it is
// escaped, so an entity is never split and Telegram's count (of the text
// after parsing) matches.
func telegramText(m model.AlertMessage) string {
	title := truncateUTF16(oneLine(m.Title()), 512, "…")
	rest := body(m)
	room := telegramMaxText - utf16Len(title) - 2
	return "<b>" + telegramEscape(title) + "</b>\n\n" + telegramEscape(truncateUTF16(rest, room, truncatedMarker))
}

type telegramRequest struct {
	ChatID                any    `json:"chat_id"`
	Text                  string `json:"text"`
	ParseMode             string `json:"parse_mode"`
	DisableWebPagePreview bool   `json:"disable_web_page_preview"`
}

// telegramAnswer is the Bot API's answer envelope.
type telegramAnswer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter      float64 `json:"retry_after"`
		MigrateToChatID int64   `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// Send calls sendMessage. Telegram's answer decides: ok, or its
// error_code judged like an HTTP status (429 with parameters.retry_after
// waits; a chat that became a supergroup names its new id).
func (t *telegram) Send(ctx context.Context, m model.AlertMessage) error {
	b, err := marshalJSON(telegramRequest{ChatID: t.chatID, Text: telegramText(m), ParseMode: "HTML", DisableWebPagePreview: true})
	if err != nil {
		return Permanent(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	ans, err := t.http.do(ctx, m.ID, httpRequest{method: http.MethodPost, url: t.url, body: b, header: h})
	if err != nil {
		return t.http.scrub.wrap(err)
	}
	return t.http.scrub.wrap(t.judge(ans))
}

func (t *telegram) judge(ans httpAnswer) error {
	var ta telegramAnswer
	decoded := json.Unmarshal(ans.body, &ta) == nil
	if ans.status >= 200 && ans.status <= 299 && (!decoded || ta.OK) {
		return nil
	}
	if !decoded {
		return t.http.check(http.MethodPost, ans)
	}
	if ta.ErrorCode >= 400 && ta.ErrorCode <= 599 {
		ans.status = ta.ErrorCode
	}
	detail := shown([]byte(ta.Description))
	if id := ta.Parameters.MigrateToChatID; id != 0 {
		detail += fmt.Sprintf(" (the group is now chat %d: set chat_id to it)", id)
	}
	ans.header = ans.header.Clone()
	if ans.header == nil {
		ans.header = http.Header{}
	}
	if ra := ta.Parameters.RetryAfter; ra > 0 && ans.header.Get("Retry-After") == "" {
		ans.header.Set("Retry-After", strconv.FormatFloat(min(ra, maxRetryAfter.Seconds()), 'f', -1, 64))
	}
	if ans.status >= 200 && ans.status <= 299 {
		// ok false with a success status: Telegram did not send it.
		return fmt.Errorf("POST %s: not sent: %s", t.http.shownURL, detail)
	}
	return t.http.statusError(http.MethodPost, ans, detail)
}
