#pragma once
// Finding the exact tick at which something monotone first happens (a motion
// reaching the next encoder count, say) without stepping tick by tick.
#include <algorithm>

#include "sim/ticks.hpp"

namespace pandafly::sim {

/// The first tick u in (lo, hi] with pred(u), given !pred(lo), pred(hi) and
/// pred monotone on [lo, hi]. Starts at `guess` (an analytic estimate) and
/// gallops outwards, then bisects: a good guess costs two or three
/// evaluations of pred, a bad one O(log(hi - lo)).
template <class Pred>
Tick first_true_tick(Tick lo, Tick hi, Tick guess, Pred pred) {
  guess = std::clamp(guess, lo + 1, hi);
  Tick step = 1;
  if (pred(guess)) {
    hi = guess;
    while (step < hi - lo) {
      if (!pred(hi - step)) {
        lo = hi - step;
        break;
      }
      hi -= step;
      step *= 2;
    }
  } else {
    lo = guess;
    while (step < hi - lo) {
      if (pred(lo + step)) {
        hi = lo + step;
        break;
      }
      lo += step;
      step *= 2;
    }
  }
  while (hi - lo > 1) {
    const Tick mid = lo + (hi - lo) / 2;
    (pred(mid) ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace pandafly::sim
