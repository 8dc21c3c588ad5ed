/* onnx_load.c: the one model loader of the tools: .onnx files through the ONNX importer, every
 * other file through the .kir parser. */
#include <string.h>
#include <strings.h>

#include "onnx.h"

int
onnx_is_model_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n >= 5 && strcasecmp(path + n - 5, ".onnx") == 0;
}

Graph *
onnx_model_load(const char *path, unsigned flags, Diag *d)
{
	if (onnx_is_model_path(path))
		return onnx_import_file(path, NULL, d);
	return ir_parse_file(path, flags, d);
}

Graph *
onnx_model_load_mem(const char *buf, size_t len, const char *fname, const char *base_dir,
                    unsigned flags, Diag *d)
{
	if (onnx_is_model_path(fname))
		return onnx_import_mem((const uint8_t *)buf, len, fname, NULL, d);
	return ir_parse_mem(buf, len, fname, base_dir, flags, d);
}
