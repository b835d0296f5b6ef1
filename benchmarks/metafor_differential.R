# One R process computes every case of the differential comparison with metafor
# (driven by benchmarks/metafor_differential.py). Usage: Rscript metafor_differential.R DIR
# DIR holds the input CSV files the Python side wrote; results are written beside them.
# Only base R and metafor are used.

suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
rd <- function(name) read.csv(file.path(dir, name), stringsAsFactors = FALSE)
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
wr <- function(df, name) write.csv(df, file.path(dir, name), row.names = FALSE, quote = TRUE)
long <- function(case, values) {
  if (length(values) == 0) return(NULL)
  data.frame(case = case, quantity = names(values), value = num(unlist(values)),
             stringsAsFactors = FALSE)
}
capture <- function(expr) {
  warn <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(conditionMessage(e), class = "failed")),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(value = value, warnings = paste(warn, collapse = " | "))
}

## ---------------------------------------------------------------- escalc
ecases <- rd("escalc_cases.csv")
eargs <- rd("escalc_args.csv")
eout <- list()
for (i in seq_len(nrow(ecases))) {
  cs <- ecases[i, ]
  rows <- eargs[eargs$case == cs$case, ]
  call <- list(measure = cs$measure, vtype = cs$vtype, to = cs$to, drop00 = as.logical(cs$drop00))
  if (!is.na(cs$add)) call$add <- cs$add
  for (a in strsplit(cs$args, " ")[[1]]) call[[a]] <- rows[[a]]
  res <- capture(do.call(escalc, call))
  if (inherits(res$value, "failed")) {
    eout[[i]] <- data.frame(case = cs$case, row = rows$row, yi = "NA", vi = "NA",
                            error = as.character(res$value))
  } else {
    eout[[i]] <- data.frame(case = cs$case, row = rows$row, yi = num(as.numeric(res$value$yi)),
                            vi = num(as.numeric(res$value$vi)), error = "")
  }
}
wr(do.call(rbind, eout), "escalc_out.csv")

## ---------------------------------------------------------------- rma
rdata <- rd("rma_data.csv")
rcases <- rd("rma_cases.csv")
rout <- list()
for (i in seq_len(nrow(rcases))) {
  cs <- rcases[i, ]
  d <- rdata[rdata$dataset == cs$dataset, ]
  call <- list(yi = d$yi, vi = d$vi, method = cs$method, test = cs$test,
               intercept = as.logical(cs$intercept))
  if (cs$nmods > 0) call$mods <- as.matrix(d[, paste0("x", seq_len(cs$nmods)), drop = FALSE])
  if (as.logical(cs$weighted)) call$weights <- d$w
  if (!is.na(cs$tau2)) call$tau2 <- cs$tau2
  if (!is.na(cs$tol)) call$control <- list(tol = cs$tol)
  res <- capture(do.call(rma, call))
  r <- res$value
  if (inherits(r, "failed")) {
    rout[[i]] <- rbind(long(cs$case, list(error = 1)),
                       data.frame(case = cs$case, quantity = "message", value = as.character(r)))
    next
  }
  vals <- list(k = r$k, p = r$p, tau2 = r$tau2, se.tau2 = r$se.tau2, I2 = r$I2, H2 = r$H2,
               QE = r$QE, QEp = r$QEp, QM = r$QM, QMp = r$QMp,
               R2 = if (is.null(r$R2)) NA else r$R2, error = 0)
  for (j in seq_len(r$p)) {
    vals[[paste0("beta", j)]] <- r$beta[j]; vals[[paste0("se", j)]] <- r$se[j]
    vals[[paste0("zval", j)]] <- r$zval[j]; vals[[paste0("pval", j)]] <- r$pval[j]
    vals[[paste0("ci.lb", j)]] <- r$ci.lb[j]; vals[[paste0("ci.ub", j)]] <- r$ci.ub[j]
  }
  fs <- r$fit.stats
  for (s in rownames(fs)) for (m in colnames(fs)) vals[[paste0(s, ".", m)]] <- fs[s, m]
  rout[[i]] <- rbind(long(cs$case, vals),
                     data.frame(case = cs$case, quantity = "warnings", value = res$warnings))
}
wr(do.call(rbind, rout), "rma_out.csv")

## ---------------------------------------------------------------- rma.mh / rma.peto
mdata <- rd("mh_data.csv")
mcases <- rd("mh_cases.csv")
mout <- list()
for (i in seq_len(nrow(mcases))) {
  cs <- mcases[i, ]
  d <- mdata[mdata$dataset == cs$dataset, ]
  if (cs$fn == "peto") {
    res <- capture(rma.peto(ai = d$ai, bi = d$bi, ci = d$ci, di = d$di))
  } else if (cs$measure %in% c("IRR", "IRD")) {
    res <- capture(rma.mh(x1i = d$x1i, x2i = d$x2i, t1i = d$t1i, t2i = d$t2i,
                          measure = cs$measure, correct = as.logical(cs$correct)))
  } else {
    res <- capture(rma.mh(ai = d$ai, bi = d$bi, ci = d$ci, di = d$di, measure = cs$measure,
                          correct = as.logical(cs$correct)))
  }
  r <- res$value
  if (inherits(r, "failed")) {
    mout[[i]] <- rbind(long(cs$case, list(error = 1)),
                       data.frame(case = cs$case, quantity = "message", value = as.character(r)))
    next
  }
  vals <- list(beta1 = r$beta[1], se1 = r$se, zval1 = r$zval, pval1 = r$pval, ci.lb1 = r$ci.lb,
               ci.ub1 = r$ci.ub, QE = r$QE, QEp = r$QEp, I2 = r$I2, H2 = r$H2, error = 0)
  for (t in c("CO", "COp", "MH", "MHp", "BD", "BDp", "TA", "TAp"))
    if (!is.null(r[[t]])) vals[[t]] <- r[[t]]
  mout[[i]] <- rbind(long(cs$case, vals),
                     data.frame(case = cs$case, quantity = "warnings", value = res$warnings))
}
wr(do.call(rbind, mout), "mh_out.csv")

## ---------------------------------------------------------------- REML timing
tsets <- rd("timing_sets.csv")
reps <- tsets$reps[1]
sets <- lapply(split(rdata[rdata$dataset %in% tsets$dataset, ],
                     rdata$dataset[rdata$dataset %in% tsets$dataset]),
               function(d) list(yi = d$yi, vi = d$vi))
invisible(rma(sets[[1]]$yi, sets[[1]]$vi))
times <- numeric(reps)
for (rep in seq_len(reps)) {
  start <- proc.time()[["elapsed"]]
  for (s in sets) suppressWarnings(rma(s$yi, s$vi, method = "REML"))
  times[rep] <- proc.time()[["elapsed"]] - start
}
wr(data.frame(rep = seq_len(reps), seconds = num(times), fits = length(sets)), "timing_out.csv")
wr(data.frame(version = as.character(packageVersion("metafor"))), "version_out.csv")
