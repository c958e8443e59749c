package server

import (
	"fmt"
	"unicode"
)

// maxMarksPerBase bounds the combining marks on one character. Written languages stack few
// (Vietnamese two, pointed Hebrew with cantillation four, a keycap emoji two); hundreds on
// one letter ("Zalgo" text) grow a line far above and below the layer that shows it.
const maxMarksPerBase = 4

// checkPlainText returns why s is not text to show on a screen as typed, naming field, or
// nil. Refused: control characters (but newlines and tabs where multiline allows them),
// and the invisible format characters, whose effect differs from one view to another:
// a right-to-left override (U+202E) makes "‮LLIRD ERIF" read "FIRE DRILL" on a screen while
// the status page and the log show other text; zero-width spaces and the byte order mark
// hide text; tag characters smuggle it. A zero-width joiner or non-joiner between two
// visible characters is allowed: Persian and the Indic scripts need it inside words, and
// emoji sequences (a firefighter, a flag) are made with it.
func checkPlainText(field, s string, multiline bool) error {
	runes := []rune(s)
	marks := 0
	for i, r := range runes {
		switch {
		case (r == '\n' || r == '\t') && multiline:
		case unicode.Is(unicode.M, r):
			if marks++; marks > maxMarksPerBase {
				return fmt.Errorf("%s: more than %d combining marks on one character (at character %d): type the text without stacked accents", field, maxMarksPerBase, i+1)
			}
			continue
		case (r == 0x200c || r == 0x200d) && i > 0 && i+1 < len(runes) && visible(runes[i-1]) && visible(runes[i+1]):
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.In(r, unicode.Zl, unicode.Zp):
			return fmt.Errorf("%s: it holds %U, an invisible control or format character (a direction override, a zero-width space, a byte order mark…), at character %d: type plain text only", field, r, i+1)
		}
		marks = 0
	}
	return nil
}

// visible reports whether r is a character that shows (a letter, digit, mark, symbol or
// punctuation), not a space, control or format character.
func visible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}
