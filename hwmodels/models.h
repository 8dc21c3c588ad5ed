/* models.h: internal interface between the component models (models.c) and the ERT and report
 * (ert.c). Not installed: users include hw.h. */
#ifndef KOLMO_HW_MODELS_H
#define KOLMO_HW_MODELS_H

#include "hw.h"

/* One coefficient of tech.def. */
typedef struct HwTechCoef {
	const char *name;
	double value;
	const char *unit, *source;
} HwTechCoef;
extern const HwTechCoef hw_tech[];
extern const int hw_ntech;

/* Everything the models say about one validated architecture. */
typedef struct HwModel {
	double energy_pj[HW_NACTIONS];
	HwCompReport comp[HW_NCOMPS];
} HwModel;

void hw_model(const HwArch *a, HwModel *m);

double hw_rf_pj_per_byte(double bytes);
double hw_rf_area_um2(double bytes);
double hw_adc_pj_per_conv(const HwArch *a);
double hw_adc_area_um2(const HwArch *a);

#endif
