/* yamldoc.c: one YAML document from text, with a located diagnostic when it is malformed. Shared
 * by every schema-checked YAML file of the project (architectures, roofline families, sweeps). */
#include <yaml.h>

#include "hw.h"

int
hw_yaml_parse(const char *text, size_t len, const char *fname, yaml_document_t *doc, Diag *d)
{
	yaml_parser_t parser;
	int line;
	if (!yaml_parser_initialize(&parser))
		return diag_err(d, fname, "out of memory initialising the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (yaml_parser_load(&parser, doc)) {
		yaml_parser_delete(&parser);
		return 0;
	}
	line = (int)parser.problem_mark.line + 1;
	diag_at(d, fname, line, (int)parser.problem_mark.column + 1, diag_src_line(text, line),
	        "malformed YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
	        parser.context ? " " : "", parser.context ? parser.context : "");
	yaml_parser_delete(&parser);
	return -1;
}
