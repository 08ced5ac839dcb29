//! Escaping text from a run (resource names, tags, 事象) into the markup of
//! report.html and junit.xml: one table of characters, two dialects.

/// Where the text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Markup {
    /// HTML text and attribute values.
    Html,
    /// XML 1.0 text and attribute values (line breaks kept inside attributes;
    /// control characters XML forbids are dropped).
    Xml,
}

pub(crate) fn escape(s: &str, markup: Markup) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match (c, markup) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', _) => out.push_str("&quot;"),
            ('\'', Markup::Html) => out.push_str("&#39;"),
            ('\'', Markup::Xml) => out.push_str("&apos;"),
            ('\n', Markup::Xml) => out.push_str("&#10;"),
            ('\t' | '\r', Markup::Xml) => out.push(c),
            (c, Markup::Xml) if (c as u32) < 0x20 => {}
            (c, _) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_escape_markup_and_xml_drops_what_it_forbids() {
        let s = "<a href=\"x\">O'Neil & 市</a>\n\u{1}\t";
        assert_eq!(escape(s, Markup::Html), "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; 市&lt;/a&gt;\n\u{1}\t");
        assert_eq!(escape(s, Markup::Xml), "&lt;a href=&quot;x&quot;&gt;O&apos;Neil &amp; 市&lt;/a&gt;&#10;\t");
    }
}
