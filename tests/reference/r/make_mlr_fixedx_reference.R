# Reference values: MLR (Yuan–Bentler scaled χ², robust CFI/RMSEA) for models with fixed.x
# covariates (lavaan's conditional H1 leaves the covariates' own moments out of the saturated
# model's trace), and MLR on saturated models (df = 0).
# Run from tests/reference/:  Rscript r/make_mlr_fixedx_reference.R   (lavaan 0.6-14, jsonlite)
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
hs <- read.csv("data/HolzingerSwineford1939.csv")
pd <- read.csv("data/PoliticalDemocracy.csv")
models <- list(
  mimic = list(model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual + textual ~ ageyr + grade", data = "hs"),
  reg = list(model = "x1 ~ ageyr + grade + sex\nx2 ~ x1", data = "hs"),
  ind_on_cov = list(model = "visual =~ x1 + x2 + x3\nx1 ~ ageyr", data = "hs"),
  poldem_x = list(model = "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60", data = "pd"),
  saturated_cfa = list(model = "visual =~ x1 + x2 + x3", data = "hs"),
  saturated_reg = list(model = "x1 ~ x2 + x3", data = "hs"))
keys <- c("npar", "chisq", "df", "chisq.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.chisq.scaled",
          "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust", "rmsea.robust")
out <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  f <- sem(m$model, data = if (m$data == "hs") hs else pd, estimator = "MLR")
  est <- parameterEstimates(f, ci = FALSE)
  out[[nm]] <- list(model = m$model, data = m$data, fit = as.list(fitMeasures(f, keys)),
                    estimates = list(lhs = est$lhs, op = est$op, rhs = est$rhs, est = est$est, se = est$se))
}
write_json(list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))), fits = out),
           "values/mlr_fixedx.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
