package bbcode

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestToWhatsApp(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "Hello, world", "Hello, world"},
		{"bold", "[b]Hi[/b]", "*Hi*"},
		{"italic upper case", "[I]Hi[/I]", "_Hi_"},
		{"strike", "[s]old[/s] new", "~old~ new"},
		{"underline dropped", "[u]under[/u]line", "underline"},
		{"signature", "[b]Anna Ops:[/b][br] Good afternoon!", "*Anna Ops:*\nGood afternoon!"},
		{"spaces stay outside", "a[b] x [/b]b", "a *x* b"},
		{"empty bold", "[b][/b]x", "x"},
		{"link with text", "see [url=https://example.com/a]the page[/url]", "see the page (https://example.com/a)"},
		{"link without text", "[url]https://example.com[/url]", "https://example.com"},
		{"link text equals url", "[url=https://e.com]https://e.com[/url]", "https://e.com"},
		{"mention", "Hi [USER=15]Maria Lopez[/USER]!", "Hi Maria Lopez!"},
		{"chat mention", "[CHAT=12]Sales[/CHAT]", "Sales"},
		{"disk dropped", "file [DISK=123] here", "file  here"},
		{"send button", "[send=1]Yes[/send] or [put=/help]help[/put]", "Yes or help"},
		{"icon dropped", "[icon=https://x/i.png size=20]ok", "ok"},
		{"like", "[like] [dislike]", "👍 👎"},
		{"nested", "[b][i]both[/i][/b]", "*_both_*"},
		{"crossed", "[b][i]x[/b][/i]", "*x*"},
		{"unclosed", "[b]never closed", "never closed"},
		{"stray close", "text[/i]", "text"},
		{"unknown bracket kept", "item [1] and [see]", "item [1] and [see]"},
		{"tag made by removal", "[[b]b]x", "x"},
		{"dash quote", "------------------------------------------------------\nMaria [12.05.2026 10:00]\nwhere is it?\n------------------------------------------------------\nShipped today",
			"> Maria [12.05.2026 10:00]\n> where is it?\nShipped today"},
		{"dash quote with br", "------[br]Maria[br]hi[br]------[br]ok", "> Maria\n> hi\nok"},
		{"lonely dashes kept", "------\nno end", "------\nno end"},
		{"quote tag", "[QUOTE]a\nb[/QUOTE]c", "> a\n> bc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ToWhatsApp(tc.in); got != tc.want {
				t.Errorf("ToWhatsApp(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestToPlainDropsMarkup(t *testing.T) {
	got := ToPlain("[b]Anna:[/b][br][i]hello[/i] [s]x[/s]")
	if got != "Anna:\nhello x" {
		t.Errorf("ToPlain = %q", got)
	}
}

func FuzzBBCode(f *testing.F) {
	seeds := []string{
		"", "plain text", "[b]x[/b]", "[url=http://a]b[/url]", "[[b]b]", "[b][i]x[/b][/i]",
		"------\nq\n------\nr", "[USER=1]n[/USER]", "[br][br]", "[send=a][/send]", "[/b][b]", "[*]item",
		"[url=[b]]x[/url]", "[[[b]b]b]",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := ToWhatsApp(in)
		if m := knownTag.FindString(out); m != "" {
			t.Fatalf("ToWhatsApp(%q) = %q still contains tag %q", in, out, m)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("ToWhatsApp(%q) = %q is not valid UTF-8", in, out)
		}
		if !strings.ContainsAny(in, "[-") && out != in {
			t.Fatalf("plain text changed: %q became %q", in, out)
		}
		if again := ToWhatsApp(out); !strings.ContainsAny(out, "[-") && again != out {
			t.Fatalf("converting plain output again changed it: %q became %q", out, again)
		}
	})
}
