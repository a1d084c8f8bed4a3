package badge

import "errors"

// ErrUnknownStyle is returned when a style name is not flat, flat-square,
// for-the-badge, plastic or social.
var ErrUnknownStyle = errors.New("unknown badge style")

// ErrInvalidColor is returned when a colour is none of what shields.io
// accepts: its colour names, hex, CSS colour names, rgb() or hsl().
var ErrInvalidColor = errors.New("invalid badge colour")

// ErrEmptyMessage is returned when a badge has no message: shields.io rejects
// such a badge and there would be nothing to show on its right side.
var ErrEmptyMessage = errors.New("badge message is empty")
