# Reference values for polyserial and mixed (continuous + ordinal) correlation matrices:
# lavaan::lavCor(ordered = ) (two-step ML, lav_bvmix), psych::polyserial and psych::mixedCor
# (Olsson, Drasgow & Dorans' ad hoc estimator), polycor::polyserial (two-step and joint ML).
# Run from tests/reference/:  Rscript r/make_polyserial_reference.R
#   (needs lavaan, psych, polycor, jsonlite; written with R 4.2.2, lavaan 0.6-14, psych 2.2.9,
#    polycor 0.8-1, jsonlite 1.8.4)
# Reads data/bfi.csv (written by r/make_ordinal_reference.R); writes values/polyserial.json.
# The data: psych's bfi agreeableness items A1..A5 (six categories, ordinal), age, and two
# continuous scale scores, consc = rowMeans(C1..C5) and neuro = rowMeans(N1..N5) (NA when an
# item is missing), 2,800 rows of which 2,548 are complete.
suppressPackageStartupMessages({ library(lavaan); library(psych); library(polycor); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                 psych = as.character(packageVersion("psych")), polycor = as.character(packageVersion("polycor")))

bfi <- read.csv("data/bfi.csv")
ord <- paste0("A", 1:5)
cont <- c("age", "consc", "neuro")
df <- data.frame(bfi[ord], age = bfi$age, consc = rowMeans(bfi[paste0("C", 1:5)]), neuro = rowMeans(bfi[paste0("N", 1:5)]))
dc <- df[complete.cases(df), ]                       # 2,548 rows

# lavCor's starting values trip a harmless "correlation larger than 1" warning (covariances of age)
lav <- function(d) suppressWarnings(lavCor(d, ordered = ord, output = "fit"))
lav_record <- function(fit, d) {
  ss <- lavInspect(fit, "sampstat")
  list(names = colnames(d), cor = as.numeric(cov2cor(ss$cov)), th = as.numeric(ss$th), th_names = names(ss$th),
       nobs = lavInspect(fit, "nobs"), var = as.numeric(diag(ss$cov)[cont]),
       mean = if (is.null(ss$mean)) NULL else as.numeric(ss$mean[cont]))
}

## 1. lavaan: the data with missing values (lavCor's listwise default), and output = "cor"/"th" directly
f_all <- lav(df)
lav_main <- lav_record(f_all, df)
lav_main$cor_output <- as.numeric(suppressWarnings(lavCor(df, ordered = ord, output = "cor")))
lav_main$th_output <- as.numeric(suppressWarnings(lavCor(df, ordered = ord, output = "th")))

## 2. an empty category inside the range: A3's 3s recoded to 2 (categories 1, 2, 4, 5, 6)
gap <- dc; gap$A3[gap$A3 == 3] <- 2
lav_gap <- lav_record(lav(gap), gap)
## ... and at the top: A1's 6s recoded to 5 (A1 has five categories, the others six)
top <- dc; top$A1[top$A1 == 6] <- 5
lav_top <- lav_record(lav(top), top)

## 3. lavaan leaves out of the polyserial likelihood every case whose density times probability
##    is below sqrt(.Machine$double.eps) (lav_bvmix_lik_cache), so its estimate depends on the unit
##    of the continuous variable. Already in 1. it drops the respondent aged 86 (5.2 SD above the
##    mean) from the age-A2..A5 likelihoods; with age in thousandths of a year it drops 6 to 11
##    cases per pair
scaled <- dc; scaled$age <- scaled$age * 1000
lav_scaled <- lav_record(lav(scaled), scaled)

## 4. psych: polyserial(x, y) (the ad hoc estimator, Olsson, Drasgow & Dorans 1982) and mixedCor
ps_main <- psych::polyserial(dc[cont], dc[ord])            # 5 x 3: rows A1..A5, columns age, consc, neuro
ps_gap <- psych::polyserial(gap[cont], gap[ord])
mc_main <- psych::mixedCor(dc)$rho                         # age, consc, neuro have > 8 values: continuous
mc_top <- suppressWarnings(psych::mixedCor(top)$rho)
ps_single <- list(age_A1 = psych::polyserial(dc["age"], dc["A1"])[1, 1], neuro_A3 = psych::polyserial(dc["neuro"], dc["A3"])[1, 1])

## 5. polycor: two-step (thresholds fixed, x standardised with the n - 1 SD) with its SE, and the
##    joint ML of rho and thresholds; optim's tolerance tightened so the optimum is reached
pc_pair <- function(x, y) {
  two <- polycor::polyserial(dc[[x]], dc[[y]], std.err = TRUE, control = list(reltol = 1e-14))
  ml <- polycor::polyserial(dc[[x]], dc[[y]], ML = TRUE, std.err = TRUE, control = list(reltol = 1e-14, maxit = 20000))
  list(x = x, y = y, twostep_rho = two$rho, twostep_se = sqrt(as.numeric(two$var)), ml_rho = ml$rho, ml_se = sqrt(ml$var[1, 1]))
}
pcs <- list(pc_pair("age", "A1"), pc_pair("consc", "A5"), pc_pair("neuro", "A3"))

w(list(versions = versions, ordered = ord, continuous = cont, n_rows = nrow(df), n_complete = nrow(dc),
       lavaan = list(main = lav_main, gap = lav_gap, top = lav_top, age_times_1000 = lav_scaled),
       psych = list(polyserial = list(rows = ord, cols = cont, main = as.numeric(ps_main), gap = as.numeric(ps_gap)),
                    single = ps_single, mixedCor = list(main = as.numeric(mc_main), top = as.numeric(mc_top), names = colnames(mc_main))),
       polycor = pcs), "polyserial.json")
cat("done\n")
