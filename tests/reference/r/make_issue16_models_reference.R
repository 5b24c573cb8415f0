# Reference values for issue 16: ordered factors in models, robust t on the residual df,
# and the scaled (Satorra–Bentler 2001) difference test of MLR invariance.
# Run from tests/reference/:  Rscript r/make_issue16_models_reference.R
#   (needs MASS, sandwich, lmtest, lavaan, jsonlite; written with R 4.2.2, MASS 7.3-58.2,
#    sandwich 3.0-2, lmtest 0.9-40, lavaan 0.6-14, jsonlite 1.8.4)
# Writes data/housing.csv (MASS::housing, 72 rows) and values/issue16_models.json.
suppressPackageStartupMessages({ library(MASS); library(sandwich); library(lmtest); library(lavaan); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, MASS = as.character(packageVersion("MASS")),
                 sandwich = as.character(packageVersion("sandwich")), lmtest = as.character(packageVersion("lmtest")),
                 lavaan = as.character(packageVersion("lavaan")))
named <- function(x) as.list(setNames(unname(x), names(x)))

## 1. Proportional odds on MASS::housing: Sat is an ordered factor Low < Medium < High (not
##    alphabetical); Infl (Low, Medium, High), Type (Tower, Apartment, Atrium, Terrace) and Cont
##    (Low, High) are unordered factors whose first level is the reference.
write.csv(housing, "data/housing.csv", row.names = FALSE)
levels_of <- lapply(housing[c("Sat", "Infl", "Type", "Cont")], levels)
# polr's default optim stops at reltol 1.5e-8 and its Hessian uses steps of 1e-3; tightened
# here so the reference is the maximum-likelihood solution to ~1e-10 (the default call is
# kept below for comparison: it agrees to about 1e-5).
npar <- 6 + 2
po <- polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, Hess = TRUE,
           control = list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, npar)))
po_default <- polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, Hess = TRUE)
# the same model on the table expanded to one row per respondent (polr weights are case weights)
long <- housing[rep(seq_len(nrow(housing)), housing$Freq), c("Sat", "Infl", "Type", "Cont")]
po_long <- polr(Sat ~ Infl + Type + Cont, data = long, Hess = TRUE,
                control = list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, npar)))
spo <- summary(po)$coefficients

## 2. Binary logistic with a factor outcome whose first level is not the alphabetical first
hs <- read.csv("data/HolzingerSwineford1939.csv")
hs$female <- as.integer(hs$sex == 2)
hs$school_pg <- factor(hs$school, levels = c("Pasteur", "Grant-White"))   # Grant-White counts as 1
lg <- glm(school_pg ~ x1 + x4 + x7, family = binomial, data = hs, control = glm.control(epsilon = 1e-14, maxit = 100))
slg <- summary(lg)$coefficients

## 3. Group comparison in a factor's level order (t = mean(Pasteur) − mean(Grant-White) over its SE)
st <- t.test(x9 ~ school_pg, data = hs, var.equal = TRUE)
hs$agegrp <- cut(hs$ageyr, c(0, 12, 13, 99), labels = c("le12", "13", "ge14"))
tk <- TukeyHSD(aov(x9 ~ agegrp, data = hs))$agegrp

## 4. OLS with HC3 (and HC1) standard errors: t on the residual df (coeftest/coefci default)
##    and the asymptotic normal variant (df = Inf)
ols <- lm(x9 ~ x1 + x4 + x7 + ageyr + female, data = hs)
robust <- function(type) {
  v <- vcovHC(ols, type = type)
  ct <- coeftest(ols, vcov. = v); cz <- coeftest(ols, vcov. = v, df = Inf)
  ci <- coefci(ols, vcov. = v, level = 0.95); cin <- coefci(ols, vcov. = v, df = Inf, level = 0.95)
  wt <- waldtest(ols, vcov = v, test = "F")
  list(call = sprintf("coeftest(lm, vcov.=vcovHC(lm, type='%s')); coefci(...); waldtest(lm, vcov=..., test='F')", type),
       df_resid = ols$df.residual,
       b = named(ct[, 1]), se = named(ct[, 2]), t = named(ct[, 3]), p = named(ct[, 4]),
       ci_low = named(ci[, 1]), ci_high = named(ci[, 2]),
       p_normal = named(cz[, 4]), ci_low_normal = named(cin[, 1]), ci_high_normal = named(cin[, 2]),
       f = wt$F[2], f_df1 = abs(wt$Df[2]), f_df2 = wt$Res.Df[1], f_p = wt$`Pr(>F)`[2])
}

## 5. Measurement invariance under MLR: lavTestLRT's default for a Yuan–Bentler (Mplus) scaled
##    test is method = "satorra.bentler.2001"
HS.model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
fits <- list(configural = cfa(HS.model, data = hs, group = "school", estimator = "MLR"),
             metric = cfa(HS.model, data = hs, group = "school", estimator = "MLR", group.equal = "loadings"),
             scalar = cfa(HS.model, data = hs, group = "school", estimator = "MLR", group.equal = c("loadings", "intercepts")))
keys <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi", "tli",
          "rmsea", "srmr", "cfi.scaled", "tli.scaled", "rmsea.scaled", "cfi.robust", "tli.robust", "rmsea.robust")
fm <- lapply(fits, function(f) as.list(fitMeasures(f, keys)))
lrt <- lavTestLRT(fits$configural, fits$metric, fits$scalar)
diffs <- function(t) list(metric_vs_configural = list(chisq_diff = t[2, "Chisq diff"], df_diff = t[2, "Df diff"], p = t[2, "Pr(>Chisq)"]),
                          scalar_vs_metric = list(chisq_diff = t[3, "Chisq diff"], df_diff = t[3, "Df diff"], p = t[3, "Pr(>Chisq)"]))
# the unscaled (ML) difference, for contrast: what the MLR table reported before issue 16
ml_diff <- function(a, b) { d <- fm[[b]]$chisq - fm[[a]]$chisq; k <- fm[[b]]$df - fm[[a]]$df
  list(chisq_diff = d, df_diff = k, p = pchisq(d, k, lower.tail = FALSE)) }

w(list(versions = versions,
       ordinal_housing = list(call = "polr(Sat ~ Infl + Type + Cont, weights=Freq, data=housing, Hess=TRUE, control=list(reltol=1e-15, maxit=10000, ndeps=rep(1e-5, 8)))",
                              levels = levels_of, n = po$n,
                              coef = named(spo[, 1]), se = named(spo[, 2]), deviance = po$deviance,
                              default_call_coef = named(c(coef(po_default), po_default$zeta)),
                              expanded_rows_coef = named(c(coef(po_long), po_long$zeta)),
                              expanded_rows_se = named(sqrt(diag(vcov(po_long)))), expanded_rows_deviance = po_long$deviance),
       logistic_factor = list(call = "glm(factor(school, levels=c('Pasteur','Grant-White')) ~ x1 + x4 + x7, family=binomial, control=glm.control(epsilon=1e-14))",
                              coef = named(slg[, 1]), se = named(slg[, 2]), deviance = lg$deviance),
       t_factor = list(call = "t.test(x9 ~ factor(school, levels=c('Pasteur','Grant-White')), var.equal=TRUE)",
                       levels = levels(hs$school_pg), t = unname(st$statistic), df = unname(st$parameter), p = st$p.value,
                       means = unname(st$estimate)),
       tukey_factor = list(call = "TukeyHSD(aov(x9 ~ agegrp)); agegrp = cut(ageyr, c(0,12,13,99), labels=c('le12','13','ge14'))",
                           levels = levels(hs$agegrp), pairs = rownames(tk), diff = unname(tk[, "diff"]), p_adj = unname(tk[, "p adj"]),
                           lwr = unname(tk[, "lwr"]), upr = unname(tk[, "upr"])),
       ols_hc3 = robust("HC3"), ols_hc1 = robust("HC1"),
       invariance_mlr = list(call = "cfa(HS.model, data=hs, group='school', estimator='MLR', group.equal=...); lavTestLRT(configural, metric, scalar)",
                             model = HS.model, method = "satorra.bentler.2001",
                             configural = fm$configural, metric = fm$metric, scalar = fm$scalar,
                             scaled = diffs(lrt),
                             unscaled = list(metric_vs_configural = ml_diff("configural", "metric"),
                                             scalar_vs_metric = ml_diff("metric", "scalar")))),
  "issue16_models.json")
cat("done\n")
