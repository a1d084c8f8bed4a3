package model

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxChatText is the longest chat message, in characters. The chat page
// refuses a longer one, and a hub refuses one another hub shares: one
// rule, so no hub of a site stores what its own page would refuse.
const MaxChatText = 500

// CleanChatText is the rule every chat message is held to, wherever it
// was said: it returns the text trimmed of surrounding space, or a
// problem for people ("" when there is none): the text is empty, not
// UTF-8, longer than MaxChatText characters, or holds control characters
// other than line breaks and tabs (which could rewrite a terminal or a
// log that shows it).
func CleanChatText(text string) (clean, problem string) {
	text = strings.TrimSpace(text)
	if !utf8.ValidString(text) {
		return text, "The message is not valid text."
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return text, "The message holds control characters."
		}
	}
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return text, "Type a message first."
	case n > MaxChatText:
		return text, "Message too long: " + strconv.Itoa(n) + " characters, the limit is " + strconv.Itoa(MaxChatText) + "."
	}
	return text, ""
}
