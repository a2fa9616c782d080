# Proxy shift, stage 2 "ReSAM +ceiling": ReSAM whose requery may not inflate a mask beyond twice
# its unrefined area (ConfidenceRefiner.max_growth); no floor, no gate.
_base_ = ['./stage2_resam.py']
model = dict(self_training=dict(refiner=dict(max_growth=2.0)))
