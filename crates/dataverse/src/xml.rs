//! A small XML element tree for the documents Stanchion reads and rewrites structurally (the
//! CSDL `$metadata` document; FetchXML later): read with quick-xml, written back canonically.
//!
//! Reading refuses what design §6.1 asks parsers to refuse: DTDs (`<!DOCTYPE`), entity
//! references other than XML's five predefined ones and character references, processing
//! instructions other than the XML declaration, documents larger than the caller's limit,
//! nesting deeper than [`MAX_DEPTH`], more than [`MAX_ELEMENTS`] elements, and more than one
//! root. Comments are dropped; text is kept only where it is not whitespace between elements.
//! Namespaces are kept as written (prefixed names stay prefixed); this module does not resolve
//! them.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::fmt::Write as _;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most elements in one document (a real org's `$metadata` holds a few hundred thousand).
pub const MAX_ELEMENTS: usize = 2_000_000;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("the XML is not well formed: {0}")]
    Malformed(String),
    /// A construct refused on purpose (DTD, entity, processing instruction).
    #[error("the XML contains {0}, which is refused")]
    Refused(&'static str),
    /// Over a size, depth or element limit.
    #[error("the XML is too large: {0}")]
    TooLarge(String),
}

/// An element: its name as written, attributes in order, and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The name as written (`edmx:Edmx`, `EntityType`).
    pub name: String,
    /// Attributes in document order, values unescaped.
    pub attributes: Vec<(String, String)>,
    /// Child nodes.
    pub children: Vec<Node>,
}

/// A child node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Text (unescaped), including CDATA content.
    Text(String),
}

impl Element {
    /// An element without attributes or children.
    pub fn new(name: impl Into<String>) -> Self {
        Element { name: name.into(), attributes: Vec::new(), children: Vec::new() }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a child element (builder style).
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The local part of the name (`Edmx` for `edmx:Edmx`).
    pub fn local_name(&self) -> &str {
        self.name.rsplit_once(':').map_or(&self.name, |(_, l)| l)
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements, mutable.
    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements with this local name.
    pub fn named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.local_name() == local)
    }

    /// Keeps the child elements for which `keep` is true (text children stay).
    pub fn retain_elements(&mut self, mut keep: impl FnMut(&Element) -> bool) {
        self.children.retain(|n| match n {
            Node::Element(e) => keep(e),
            Node::Text(_) => true,
        });
    }

    /// The document: an XML declaration and this element, indented two spaces per level
    /// where an element holds only elements.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        self.write(&mut out, Some(0));
        out.push('\n');
        out
    }

    /// The element alone, without declaration or indentation (FetchXML in a URL).
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None);
        out
    }

    /// Writes the element; `indent` is its depth when elements go on lines of their own.
    fn write(&self, out: &mut String, indent: Option<usize>) {
        out.push('<');
        out.push_str(&self.name);
        for (n, v) in &self.attributes {
            let _ = write!(out, " {n}=\"{}\"", escape(v, true));
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        // Only an element holding only elements is indented: text keeps its exact content.
        let depth = indent.filter(|_| self.children.iter().all(|c| matches!(c, Node::Element(_))));
        for c in &self.children {
            match c {
                Node::Element(e) => {
                    if let Some(d) = depth {
                        out.push('\n');
                        out.push_str(&"  ".repeat(d + 1));
                    }
                    e.write(out, indent.map(|d| d + 1));
                }
                Node::Text(t) => out.push_str(&escape(t, false)),
            }
        }
        if let Some(d) = depth {
            out.push('\n');
            out.push_str(&"  ".repeat(d));
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

/// Escapes text or an attribute value.
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
}

/// The one entity references XML predefines.
fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Reads a document of at most `max_len` bytes into its root element.
pub fn parse(text: &str, max_len: usize) -> Result<Element, XmlError> {
    if text.len() > max_len {
        return Err(XmlError::TooLarge(format!("{} bytes, more than {max_len}", text.len())));
    }
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    let mut seen_element = false;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Decl(_) if !seen_element && stack.is_empty() => {}
            Event::Decl(_) => return Err(XmlError::Malformed("a misplaced XML declaration".into())),
            Event::DocType(_) => return Err(XmlError::Refused("a document type declaration (DTD)")),
            Event::PI(_) => return Err(XmlError::Refused("a processing instruction")),
            Event::Comment(_) => {}
            Event::Start(_) | Event::Empty(_) if seen_element && stack.is_empty() => {
                return Err(XmlError::Malformed("more than one root element".into()));
            }
            Event::Start(ref s) | Event::Empty(ref s) => {
                seen_element = true;
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge(format!("more than {MAX_ELEMENTS} elements")));
                }
                let name = AsRef::<str>::as_ref(&s.name()).to_owned();
                let mut attributes = Vec::new();
                for a in s.attributes() {
                    let a = a.map_err(malformed)?;
                    let key = AsRef::<str>::as_ref(&a.key).to_owned();
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|_| XmlError::Refused("an entity reference XML does not predefine"))?;
                    attributes.push((key, value.into_owned()));
                }
                let element = Element { name, attributes, children: Vec::new() };
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooLarge(format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| XmlError::Malformed("an unmatched end tag".into()))?;
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content)?;
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                push_text(&mut stack, &content)?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(malformed)?
                        .ok_or_else(|| malformed("an invalid character reference"))?
                } else {
                    let name = r.xml10_content();
                    predefined(&name).ok_or(XmlError::Refused("an entity reference XML does not predefine"))?
                };
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("the document ends inside an element".into()));
    }
    root.ok_or_else(|| XmlError::Malformed("no root element".into()))
}

fn close(stack: &mut [Element], root: &mut Option<Element>, mut element: Element) {
    // Whitespace between child elements carries nothing: drop it.
    if element.children.iter().any(|c| matches!(c, Node::Element(_))) {
        element.children.retain(|c| !matches!(c, Node::Text(t) if t.trim().is_empty()));
    }
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            match parent.children.last_mut() {
                Some(Node::Text(t)) => t.push_str(text),
                _ => parent.children.push(Node::Text(text.to_owned())),
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Malformed("text outside the root element".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let doc = "<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\"><!-- c --><b>t &lt; u&#65;</b>\n  <c/></a>";
        let e = parse(doc, 1 << 20).unwrap();
        assert_eq!(e.get("x"), Some("1 & 2"));
        let b = e.named("b").next().unwrap();
        assert_eq!(b.children, vec![Node::Text("t < uA".into())]);
        let again = parse(&e.to_document(), 1 << 20).unwrap();
        assert_eq!(again, e);
        for (bad, want) in [
            ("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "DTD"),
            ("<a>&x;</a>", "entity"),
            ("<a x=\"&x;\"/>", "entity"),
            ("<?php x ?><a/>", "processing"),
            ("<a/><b/>", "root"),
            ("<a><b></a>", "well formed"),
            ("<a x=\"1\" x=\"2\"/>", "duplicated"),
            ("<a>", "ends inside"),
        ] {
            let e = parse(bad, 1 << 20).unwrap_err().to_string(); // quick-xml refuses duplicated attributes
            assert!(e.contains(want), "{bad}: {e}");
        }
        assert!(matches!(parse("<a/>", 3), Err(XmlError::TooLarge(_))));
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep, 1 << 20), Err(XmlError::TooLarge(_))));
    }
}
