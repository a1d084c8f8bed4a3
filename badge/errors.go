package badge

import "errors"

// ErrUnknownStyle is returned when a style name is not flat, flat-square or
// for-the-badge.
var ErrUnknownStyle = errors.New("unknown badge style")

// ErrInvalidColor is returned when a colour is neither a shields.io colour name
// nor 3- or 6-digit hex.
var ErrInvalidColor = errors.New("invalid badge colour")

// ErrEmptyMessage is returned when a badge has no message: shields.io rejects
// such a badge and there would be nothing to show on its right side.
var ErrEmptyMessage = errors.New("badge message is empty")
