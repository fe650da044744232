// Debian builds libxml2 with ICU, and its encoding.h then includes ICU's headers, whose
// types clash with the toolchain's own ICU (_FoundationICU) that SondeCore uses. Nothing
// here touches the ICU converter fields, so the headers are read without them.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

/// xmlFree is a global function pointer, which Swift 6 cannot read safely from any thread.
static inline void sonde_xml_free(void *pointer) { xmlFree(pointer); }

/// libxml2 writes some errors (XPath's "function not found") to stderr through its generic
/// error function, a per-thread global: silenced on the calling thread.
/// Parsers that recover (HTML's) report what they gave up only through errors: whether one
/// said the document nests too deep (libxml2 stops at 256 levels) is kept, per thread.
static __thread int sonde_xml_too_deep = 0;
static void sonde_xml_ignore(void *context, const char *message, ...) {}
static void sonde_xml_note_structured(void *context, xmlErrorPtr error) {
    if (error != NULL && error->message != NULL && strstr(error->message, "Excessive depth") != NULL) sonde_xml_too_deep = 1;
}
static inline void sonde_xml_silence(void) {
    sonde_xml_too_deep = 0;
    xmlSetGenericErrorFunc(NULL, sonde_xml_ignore);
    xmlSetStructuredErrorFunc(NULL, sonde_xml_note_structured);
}
static inline int sonde_xml_was_too_deep(void) { return sonde_xml_too_deep; }
