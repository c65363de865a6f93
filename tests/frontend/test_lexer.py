"""The Thrift lexer: tokens, values, positions, comments, doctext, errors."""

from __future__ import annotations

import pytest

from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.lexer import KEYWORDS, clean_up_doctext, tokenize


def lex(text: str):
    d = Diagnostics()
    toks = tokenize(text, "t.thrift", d)
    return toks, d


def kinds(text: str) -> list[tuple[str, object]]:
    toks, d = lex(text)
    assert not d.errors, [x.message for x in d.errors]
    return [(t.type, t.value.value) for t in toks]


# -- keywords and identifiers ----------------------------------------------


@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_every_keyword_is_its_own_token(word):
    assert kinds(word) == [(KEYWORDS[word], word)]


def test_keyword_prefix_or_dotted_keyword_is_an_identifier():
    assert kinds("structure i32x list.size Enum.VALUE shared.SharedStruct _x9") == [
        ("IDENTIFIER", "structure"),
        ("IDENTIFIER", "i32x"),
        ("IDENTIFIER", "list.size"),
        ("IDENTIFIER", "Enum.VALUE"),
        ("IDENTIFIER", "shared.SharedStruct"),
        ("IDENTIFIER", "_x9"),
    ]


def test_true_and_false_are_integer_constants():
    assert kinds("true false") == [("INTCONSTANT", 1), ("INTCONSTANT", 0)]


def test_removed_words_are_plain_identifiers_to_the_lexer():
    # slist/senum/php_namespace... are refused by the parser, with a hint.
    assert kinds("slist senum php_namespace") == [("IDENTIFIER", "slist"), ("IDENTIFIER", "senum"), ("IDENTIFIER", "php_namespace")]


# -- numbers -----------------------------------------------------------------


def test_integers_decimal_signed_and_hex():
    assert kinds("0 42 -7 +5 0x1F -0x0001F +0x10") == [
        ("INTCONSTANT", 0),
        ("INTCONSTANT", 42),
        ("INTCONSTANT", -7),
        ("INTCONSTANT", 5),
        ("INTCONSTANT", 31),
        ("INTCONSTANT", -31),
        ("INTCONSTANT", 16),
    ]


def test_upper_case_0X_is_not_hex():
    # Apache's hexconstant is `[+-]?"0x"[0-9A-Fa-f]+`: `0XAb` is 0 then an identifier.
    assert kinds("0XAb") == [("INTCONSTANT", 0), ("IDENTIFIER", "XAb")]


def test_int64_limits_and_overflow():
    assert kinds("9223372036854775807 -9223372036854775808 0x7fffffffffffffff") == [
        ("INTCONSTANT", 2**63 - 1),
        ("INTCONSTANT", -(2**63)),
        ("INTCONSTANT", 2**63 - 1),
    ]
    for text in ("9223372036854775808", "-9223372036854775809", "0x8000000000000000", "-0x8000000000000000"):
        toks, d = lex(f"x {text}")
        assert [e.message for e in d.errors] == [f'This integer is too big: "{text}"']
        assert (d.errors[0].loc.line, d.errors[0].loc.col) == (1, 3)


def test_doubles_with_fraction_and_exponent():
    toks, d = lex("1.5 .5 -0.25 1e10 1E-3 +2.5e+2 3.")
    vals = [(t.type, t.value.value, t.value.text) for t in toks]
    assert vals[:6] == [
        ("DUBCONSTANT", 1.5, "1.5"),
        ("DUBCONSTANT", 0.5, ".5"),
        ("DUBCONSTANT", -0.25, "-0.25"),
        ("DUBCONSTANT", 1e10, "1e10"),
        ("DUBCONSTANT", 1e-3, "1E-3"),
        ("DUBCONSTANT", 250.0, "+2.5e+2"),
    ]
    # `3.` is the integer 3 and then a lone '.', which Apache refuses too.
    assert vals[6] == ("INTCONSTANT", 3, "3")
    assert d.errors and "unexpected token in input: '.'" in d.errors[0].message


def test_e10_alone_is_an_identifier():
    assert kinds("e10") == [("IDENTIFIER", "e10")]


# -- strings -----------------------------------------------------------------


def test_string_literals_both_quotes_and_apache_escapes():
    toks = kinds(r""" "a\"b" 'c\'d' "x'y" 'x"y' "\n\r\t\\" '' """)
    assert toks == [
        ("LITERAL", 'a"b'),
        ("LITERAL", "c'd"),
        ("LITERAL", "x'y"),
        ("LITERAL", 'x"y'),
        ("LITERAL", "\n\r\t\\"),
        ("LITERAL", ""),
    ]


def test_bad_escape_is_an_error_at_the_backslash():
    toks, d = lex('x = "ab\\q"')
    assert len(d.errors) == 1
    e = d.errors[0]
    assert "bad escape character '\\q'" in e.message
    assert (e.loc.line, e.loc.col) == (1, 8)


def test_unterminated_string_at_end_of_line_and_file():
    _, d = lex('const string s = "abc\n"')
    assert (d.errors[0].loc.line, d.errors[0].loc.col) == (1, 18)
    assert "end of line while reading string literal" in d.errors[0].message
    _, d = lex("'abc")
    assert "end of file while reading string literal" in d.errors[0].message


# -- symbols, positions ------------------------------------------------------


def test_symbols():
    toks, d = lex(":;,{}()=<>[]*&")
    assert not d.errors
    assert [t.type for t in toks] == list(":;,{}()=<>[]*&")


def test_every_token_has_line_and_column():
    text = "struct Foo {\n\t1: i32 x,\n  2: string y = 'q'\n}\n"
    toks, _ = lex(text)
    got = [(t.value.text, t.value.loc.line, t.value.loc.col) for t in toks]
    assert got == [
        ("struct", 1, 1),
        ("Foo", 1, 8),
        ("{", 1, 12),
        ("1", 2, 2),  # a tab counts as one column
        (":", 2, 3),
        ("i32", 2, 5),
        ("x", 2, 9),
        (",", 2, 10),
        ("2", 3, 3),
        (":", 3, 4),
        ("string", 3, 6),
        ("y", 3, 13),
        ("=", 3, 15),
        ("'q'", 3, 17),
        ("}", 4, 1),
    ]
    assert all(t.value.loc.file == "t.thrift" for t in toks)


def test_positions_after_multiline_comments():
    toks, _ = lex("/* a\n b\n */ x # c\n// d\n  y")
    assert [(t.value.text, t.value.loc.line, t.value.loc.col) for t in toks] == [("x", 3, 5), ("y", 5, 3)]


# -- comments and doctext ----------------------------------------------------


def test_comments_are_skipped():
    assert kinds("a // x y\nb # z\nc /* q\n r */ d /**/ e /***/ f") == [
        ("IDENTIFIER", n) for n in "abcdef"
    ]


def test_comment_forms_apache_accepts():
    # `/* * / */` and a `/*` inside a block comment (DocTest.thrift, Included.thrift)
    assert kinds("/* * / */ a /* /* b */ c") == [("IDENTIFIER", "a"), ("IDENTIFIER", "c")]


def test_unterminated_comments_are_errors():
    _, d = lex("a\n  /* never closed")
    assert [(e.loc.line, e.loc.col) for e in d.errors] == [(2, 3)]
    assert "multiline comment" in d.errors[0].message
    _, d = lex("/** doc never closed")
    assert "doc-comment" in d.errors[0].message


def test_doctext_is_not_a_token():
    assert kinds("/** doc */ a") == [("IDENTIFIER", "a")]


@pytest.mark.parametrize(
    "body, cleaned",
    [
        (" one line ", "one line\n"),
        ("\n * first\n * second\n ", "first\nsecond\n"),
        ("\n * a\n *\n * b\n ", "a\n\nb\n"),
        ("\n   * indented\n   *   more\n   ", "indented\n  more\n"),
        ("\n No stars\n   indented\n ", "No stars\n  indented\n"),
        ("Irregular\n * x\n* y\n ", "Irregular\n * x\n* y\n"),
        ("\n * trailing   \n ", "trailing\n"),
        ("", None),
        (" ", None),
        ("\n*\n*\n", "\n\n"),  # DocTest.thrift TotallyDegenerate
        ("\r\n * crlf\r\n ", "crlf\n"),
    ],
)
def test_clean_up_doctext_like_apache(body, cleaned):
    assert clean_up_doctext(body) == cleaned


# -- unknown characters ------------------------------------------------------


@pytest.mark.parametrize("ch", ["@", "$", "%", "!", "\\", "\x00", "é", "\f", "-", "."])
def test_unexpected_character_is_reported_with_position(ch):
    _, d = lex(f"a\nb {ch} c")
    assert len(d.errors) == 1
    assert d.errors[0].message.startswith("unexpected token in input")
    assert (d.errors[0].loc.line, d.errors[0].loc.col) == (2, 3)


def test_clones_are_independent():
    from thrift_kgen.frontend.lexer import new_lexer

    d = Diagnostics()
    a = new_lexer("x y", "a.thrift", d)
    b = new_lexer("p q r", "b.thrift", d)
    ta = a.token()
    tb = b.token()
    assert (ta.value.value, ta.value.loc.file) == ("x", "a.thrift")
    assert (tb.value.value, tb.value.loc.file) == ("p", "b.thrift")
    assert a.token().value.value == "y" and b.token().value.value == "q"
