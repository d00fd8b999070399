/// Content that is dropped whole (script-capable and foreign elements, the head) and where it ends.
extension HTMLSanitizer.TreeBuilder {
    mutating func pushDropped(_ name: String, foreign: Bool) {
        guard dropped.count < HTMLSanitizer.maxDroppedDepth else { return }
        dropped.append(HTMLSanitizer.DroppedElement(name: name, foreign: foreign))
    }

    mutating func droppedStartTag(_ tag: HTMLSanitizer.StartTag) -> HTMLSanitizer.ContentModel {
        let name = tag.name
        guard let top = dropped.last else { return .markup }
        if top.foreign {
            if HTMLSanitizer.AllowList.breakout.contains(name) {
                popForeign()
                return startTag(tag)
            }
            if name == "svg" || name == "math", !tag.selfClosing { pushDropped(name, foreign: true) }
            return .markup  // in svg and math, script and style are not raw text
        }
        if top.name == "head", name != "head", !HTMLSanitizer.AllowList.headContent.contains(name) {
            dropped.removeLast()
            return startTag(tag)
        }
        if top.name == "select" {
            if name == "select" {
                dropped.removeLast()  // a nested `<select>` acts as `</select>`
                return .markup
            }
            if name == "input" || name == "keygen" || name == "textarea" {
                dropped.removeLast()
                return startTag(tag)
            }
        }
        switch name {
        case "script":
            return .script
        case "xmp":
            return .rawText(name: Array(name.utf8), keep: false)
        case "plaintext":
            return .plaintext(keep: false)
        case _ where HTMLSanitizer.AllowList.rawTextDropped.contains(name):
            return .rawText(name: Array(name.utf8), keep: false)
        case _ where HTMLSanitizer.AllowList.droppedContainers.contains(name):
            pushDropped(name, foreign: false)
        case "svg", "math":
            if !tag.selfClosing { pushDropped(name, foreign: true) }
        default:
            break
        }
        return .markup
    }

    mutating func droppedEndTag(_ name: String) {
        guard let top = dropped.last else { return }
        if top.foreign, name == "p" || name == "br" {
            popForeign()
            endTag(name)
            return
        }
        if top.name == "head" {
            if name == "head" {
                dropped.removeLast()
            } else if name == "body" || name == "html" || name == "br" {
                dropped.removeLast()
                endTag(name)
            }
            return
        }
        if let index = dropped.lastIndex(where: { $0.name == name }) {
            dropped.removeSubrange(index...)
        }
    }

    mutating func popForeign() {
        while let last = dropped.last, last.foreign {
            dropped.removeLast()
        }
    }
}
