# Extra reference values for govsurvey's models layer.
# Run from tests/reference/:  Rscript r/make_models_reference.R   (needs lavaan, psych, lme4, MASS, jsonlite)
# Written with R 4.2.2, lavaan 0.6.14, psych 2.2.9, lme4 (Debian's), MASS.
suppressPackageStartupMessages({ library(lavaan); library(psych); library(lme4); library(MASS); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")), psych = as.character(packageVersion("psych")),
                 lme4 = as.character(packageVersion("lme4")), MASS = as.character(packageVersion("MASS")))
hs <- read.csv("data/HolzingerSwineford1939.csv")
hs$female <- as.integer(hs$sex == 2)
# 1. lavaan bootstrap percentile interval of the indirect effect (Monte-Carlo reference)
med <- "x4 ~ a*x1\nx9 ~ b*x4 + cp*x1\nind := a*b\ntotal := cp + a*b"
set.seed(20261124)
fb <- sem(med, data = hs, se = "bootstrap", bootstrap = 5000)
pb <- parameterEstimates(fb, boot.ci.type = "perc", level = 0.95)
boot <- lavInspect(fb, "boot")
ind_boot <- boot[, "a"] * boot[, "b"]
# 2. parallel mediation with a covariate
par <- "x5 ~ a1*x1 + ageyr\nx6 ~ a2*x1 + ageyr\nx9 ~ b1*x5 + b2*x6 + cp*x1 + ageyr\nx5 ~~ x6\nind1 := a1*b1\nind2 := a2*b2\nindirect := a1*b1 + a2*b2\ntotal := cp + a1*b1 + a2*b2"
fp <- sem(par, data = hs); pp <- parameterEstimates(fp)
lab <- function(pe, l) list(est = pe$est[pe$label == l], se = pe$se[pe$label == l])
# 3. ordinal: proportional odds
hs$x9c <- cut(hs$x9, breaks = c(-Inf, 4.5, 5.5, 6.5, Inf), labels = FALSE)
po <- polr(factor(x9c) ~ x1 + female, data = hs, Hess = TRUE)
spo <- summary(po)$coefficients
# 4. group comparisons
st <- t.test(x9 ~ female, data = hs, var.equal = TRUE); wt <- t.test(x9 ~ female, data = hs)
hs$gradef <- factor(hs$grade)
av <- summary(aov(x9 ~ school, data = hs))[[1]]
hs$agegrp <- cut(hs$ageyr, c(0, 12, 13, 99), labels = c("le12", "13", "ge14"))
ow <- oneway.test(x9 ~ agegrp, data = hs, var.equal = FALSE); oa <- summary(aov(x9 ~ agegrp, data = hs))[[1]]
tk <- TukeyHSD(aov(x9 ~ agegrp, data = hs))$agegrp
kw <- kruskal.test(x9 ~ agegrp, data = hs)
wx <- wilcox.test(x9 ~ female, data = hs, exact = FALSE, correct = FALSE)
cs <- chisq.test(table(hs$school, hs$agegrp), correct = FALSE)
ct <- cor.test(hs$x1, hs$x9); cs2 <- suppressWarnings(cor.test(hs$x1, hs$x9, method = "spearman", exact = FALSE))
ds <- psych::describe(hs[, c("x1", "x9")], type = 2)
# 5. random slopes
nest <- read.csv("data/nested_preparedness.csv")
rs <- lmer(preparedness ~ hours + (1 + hours | community), data = nest, REML = TRUE)
vc <- as.data.frame(VarCorr(rs))
w(list(versions = versions,
       mediation_boot = list(call = "set.seed(20261124); sem(med, data=hs, se='bootstrap', bootstrap=5000); parameterEstimates(boot.ci.type='perc')",
                             ind_ci = c(pb$ci.lower[pb$label == "ind"], pb$ci.upper[pb$label == "ind"]), ind_boot_sd = sd(ind_boot),
                             n_boot = nrow(boot)),
       parallel = list(call = "lavaan::sem(par, data=hs)", model = par,
                       a1 = lab(pp, "a1"), a2 = lab(pp, "a2"), b1 = lab(pp, "b1"), b2 = lab(pp, "b2"), cp = lab(pp, "cp"),
                       ind1 = lab(pp, "ind1"), ind2 = lab(pp, "ind2"), indirect = lab(pp, "indirect"), total = lab(pp, "total")),
       ordinal = list(call = "MASS::polr(factor(x9c) ~ x1 + female, Hess=TRUE); x9c = cut(x9, c(-Inf,4.5,5.5,6.5,Inf))",
                      coef = as.list(spo[, 1]), se = as.list(spo[, 2]), deviance = po$deviance),
       t_student = list(call = "t.test(x9 ~ female, var.equal=TRUE)", t = unname(st$statistic), df = unname(st$parameter), p = st$p.value),
       t_welch = list(call = "t.test(x9 ~ female)", t = unname(wt$statistic), df = unname(wt$parameter), p = wt$p.value),
       anova_school = list(call = "summary(aov(x9 ~ school))", f = av$`F value`[1], p = av$`Pr(>F)`[1]),
       welch_anova = list(call = "oneway.test(x9 ~ agegrp); agegrp = cut(ageyr, c(0,12,13,99))", f = unname(ow$statistic),
                          df1 = unname(ow$parameter[1]), df2 = unname(ow$parameter[2]), p = ow$p.value),
       anova_age = list(call = "summary(aov(x9 ~ agegrp))", f = oa$`F value`[1], p = oa$`Pr(>F)`[1],
                        eta_sq = oa$`Sum Sq`[1] / sum(oa$`Sum Sq`)),
       tukey = list(call = "TukeyHSD(aov(x9 ~ agegrp))", pairs = rownames(tk), diff = unname(tk[, "diff"]), p_adj = unname(tk[, "p adj"])),
       kruskal = list(call = "kruskal.test(x9 ~ agegrp)", h = unname(kw$statistic), p = kw$p.value),
       wilcox = list(call = "wilcox.test(x9 ~ female, exact=FALSE, correct=FALSE)", w = unname(wx$statistic), p = wx$p.value),
       chisq = list(call = "chisq.test(table(school, agegrp), correct=FALSE)", x2 = unname(cs$statistic), df = unname(cs$parameter), p = cs$p.value),
       cor_pearson = list(call = "cor.test(x1, x9)", r = unname(ct$estimate), p = ct$p.value),
       cor_spearman = list(call = "cor.test(x1, x9, method='spearman', exact=FALSE)", rho = unname(cs2$estimate), p = cs2$p.value),
       describe = list(call = "psych::describe(hs[, c('x1','x9')], type=2)  # SPSS's G1/G2", skew = as.list(setNames(ds$skew, rownames(ds))),
                       kurtosis = as.list(setNames(ds$kurtosis, rownames(ds))), sd = as.list(setNames(ds$sd, rownames(ds)))),
       random_slope = list(call = "lmer(preparedness ~ hours + (1 + hours | community), REML=TRUE)",
                           fixed = as.list(fixef(rs)), se = as.list(sqrt(diag(as.matrix(vcov(rs))))),
                           var_intercept = vc$vcov[1], var_slope = vc$vcov[2], var_residual = vc$vcov[4], loglik = as.numeric(logLik(rs)))),
  "models_extra.json")
cat("done\n")
