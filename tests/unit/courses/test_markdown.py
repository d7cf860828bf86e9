"""Lesson Markdown renders to safe HTML: no script, no javascript: links, runnable blocks marked."""

import pytest

from courses.markdown import BrokenLink, render, sanitize


def test_script_tags_do_not_survive():
    html = render("Hello <script>alert('x')</script> world\n\n<script>\nalert(1)\n</script>\n")
    assert "<script" not in html
    assert "&lt;script&gt;" in html  # shown as text, not run


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        "[c](JaVaScRiPt:alert(1))",
        "[c](vbscript:x)",
        "[c](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
    ],
)
def test_dangerous_link_schemes_are_dropped(link):
    html = render(f"Please {link} now").lower()
    assert "<a " not in html  # the link is not rendered at all; its text may remain as text
    assert 'href="javascript:' not in html and 'href="vbscript:' not in html and 'href="data:' not in html


def test_raw_html_is_text_and_event_handlers_cannot_appear():
    html = render('<img src=x onerror="alert(1)"> <a href="javascript:alert(1)">x</a> <iframe src="//evil"></iframe>')
    assert "<img" not in html and "<iframe" not in html and "<a " not in html
    assert "onerror" not in sanitize('<img src="x" onerror="alert(1)">')
    assert "<iframe" not in sanitize('<iframe src="https://evil.example"></iframe>')


def test_safe_links_survive_with_noopener():
    html = render("[docs](https://docs.docker.com/)")
    assert 'href="https://docs.docker.com/"' in html
    assert 'rel="noopener noreferrer"' in html


def test_runnable_code_block_gets_a_run_button_and_highlighting():
    html = render("```bash run\ndocker run --rm busybox echo hi\n```\n\n```bash\nls\n```\n")
    assert html.count('class="code-block runnable"') == 1
    assert html.count("run-btn") == 1
    assert '<span class="nb">echo</span>' in html  # Pygments highlighted
    assert html.count('class="code-block"') == 1  # the plain block has no Run


def test_heading_anchors_and_tables():
    html = render("## Image layers\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert '<h2 id="image-layers">' in html
    assert "<table>" in html and "<td>1</td>" in html


def test_link_resolver_rewrites_and_reports_line():
    def resolver(href):
        if href == "ok.md":
            return "/courses/c/ok/"
        raise BrokenLink(href, None)

    assert 'href="/courses/c/ok/"' in render("[x](ok.md)", resolver=resolver)
    with pytest.raises(BrokenLink) as info:
        render("line one\n\nline three [x](missing.md)\n", resolver=resolver, line_offset=10)
    assert info.value.line == 13
