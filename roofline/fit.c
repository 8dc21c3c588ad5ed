/* fit.c: power laws y = a x^b by least squares in log space, with R^2 in log space. */
#include "roofline.h"

#include <math.h>

int
rf_powerlaw_fit(const double *x, const double *y, int n, RfFit *f)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, mx, my, ss_tot = 0, ss_res = 0, b, la;
	int i, k = 0;
	f->a = f->b = f->r2 = 0;
	f->n = 0;
	for (i = 0; i < n; i++) {
		double lx, ly;
		if (!(x[i] > 0) || !(y[i] > 0) || !isfinite(x[i]) || !isfinite(y[i]))
			continue;
		lx = log(x[i]);
		ly = log(y[i]);
		sx += lx;
		sy += ly;
		k++;
	}
	if (k < 2)
		return -1;
	mx = sx / k;
	my = sy / k;
	for (i = 0; i < n; i++) {
		double lx, ly;
		if (!(x[i] > 0) || !(y[i] > 0) || !isfinite(x[i]) || !isfinite(y[i]))
			continue;
		lx = log(x[i]) - mx;
		ly = log(y[i]) - my;
		sxx += lx * lx;
		sxy += lx * ly;
		ss_tot += ly * ly;
	}
	if (sxx <= 0)
		return -1;
	b = sxy / sxx;
	la = my - b * mx;
	for (i = 0; i < n; i++) {
		double r;
		if (!(x[i] > 0) || !(y[i] > 0) || !isfinite(x[i]) || !isfinite(y[i]))
			continue;
		r = log(y[i]) - (la + b * log(x[i]));
		ss_res += r * r;
	}
	f->a = exp(la);
	f->b = b;
	f->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
	f->n = k;
	return 0;
}
