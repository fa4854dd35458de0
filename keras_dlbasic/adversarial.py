"""Two-player training: the base of GANs and adversarial autoencoders.

Reference: Goodfellow et al., "Generative Adversarial Nets", 2014 (alternating
updates, the non-saturating generator loss); Radford, Metz & Chintala, DCGAN,
2016; Makhzani et al., "Adversarial Autoencoders", 2016.

Lecture point: an adversarial model is two networks with opposite goals, so it
has two losses and two optimizers, and one training step is two updates: first
the discriminator (critic) on its loss, then the generator (or encoder) on its
own loss, against the discriminator *just updated*. One loss could be written
once for every backend by overriding ``compute_loss`` (a VAE does); two
optimizers cannot, so ``AdversarialModel`` has a ``train_step`` per backend,
each as Keras's guides write it (custom_train_step_in_tensorflow / _in_jax /
_in_torch). A subclass writes only the two losses, once, in ``keras.ops``.

The file holds:

* ``OptimizerPair``: the two optimizers as the one ``model.optimizer`` that
  Keras's trainers, ``model.save`` and ``load_weights`` know about;
* ``AdversarialModel``: the two players, their per-backend steps and the
  ``d_loss`` / ``g_loss`` trackers that ``fit`` and ``evaluate`` report.

No backend is imported here except inside its own step.
"""
import keras


def _backend_neutral(optimizer):
    """``optimizer``'s config, naming its public class: on PyTorch, Keras serializes
    ``keras.optimizers.Adam`` as its torch subclass, which no other backend can run."""
    config = keras.optimizers.serialize(optimizer)
    for part in (config, config["config"].get("inner_optimizer")):  # a LossScaleOptimizer's too
        if isinstance(part, dict) and part.get("module", "").startswith("keras.src.backend."):
            part["module"] = "keras.optimizers"
    return config


@keras.saving.register_keras_serializable(package="keras_dlbasic")
class OptimizerPair(keras.optimizers.Optimizer):
    """Two optimizers, one per player, as a single ``model.optimizer``.

    Keras threads only ``model.optimizer.variables`` through its JAX training
    step and saves only ``model.optimizer``, so the pair's ``variables`` are
    both optimizers' (discriminator's first), and each optimizer saves its own
    state under ``optimizer/discriminator_optimizer`` and
    ``optimizer/generator_optimizer`` in a ``.keras`` file.

    Args:
        discriminator_optimizer: updates the player that moves first.
        generator_optimizer: updates the player that moves second.
        name: the pair's name.

    Attributes:
        players: a function returning the (discriminator's, generator's)
            trainable variables, set by ``AdversarialModel.compile``; ``build``
            uses it to give each optimizer its own player's variables.

    Example:
        >>> pair = OptimizerPair(keras.optimizers.Adam(2e-4, beta_1=0.5),
        ...                      keras.optimizers.Adam(1e-3, beta_1=0.5))
        >>> gan.compile(optimizer=pair)   # or one optimizer, cloned for the generator
    """

    def __init__(self, discriminator_optimizer, generator_optimizer, name=None):
        super().__init__(learning_rate=0.0, name=name)  # its own lr and step count go unused
        self.discriminator_optimizer = keras.optimizers.get(discriminator_optimizer)
        self.generator_optimizer = keras.optimizers.get(generator_optimizer)
        self.players = None

    def build(self, var_list):
        """Build each optimizer on its own player's variables, which ``players`` picks
        out of ``var_list`` (the model's trainable variables, as Keras passes them)."""
        if self.players is None:
            raise ValueError("an OptimizerPair is built by the AdversarialModel it was compiled with")
        discriminator_vars, generator_vars = self.players()
        owned = {id(v) for v in discriminator_vars + generator_vars}
        if len(owned) != len(discriminator_vars) + len(generator_vars):
            raise ValueError("the two players share a trainable variable")
        unowned = [v.path for v in var_list if id(v) not in owned]
        if unowned:
            raise ValueError(f"trainable variables of neither player would never train: {unowned}")
        self.discriminator_optimizer.build(discriminator_vars)
        self.generator_optimizer.build(generator_vars)
        super().build(var_list)

    @property
    def variables(self):
        return self.discriminator_optimizer.variables + self.generator_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError(
            "an OptimizerPair updates one player at a time: call its discriminator_optimizer "
            "or generator_optimizer")

    @property
    def iterations(self):
        """Training steps taken: each step moves the discriminator once."""
        return self.discriminator_optimizer.iterations

    @property
    def learning_rate(self):
        return self.discriminator_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):  # a learning-rate callback moves both players
        self.discriminator_optimizer.learning_rate = learning_rate
        self.generator_optimizer.learning_rate = learning_rate

    def finalize_variable_values(self, var_list):
        discriminator_vars, generator_vars = self.players()
        self.discriminator_optimizer.finalize_variable_values(discriminator_vars)
        self.generator_optimizer.finalize_variable_values(generator_vars)

    # Saving: each optimizer stores its own variables (a child of the pair in the file).
    def save_own_variables(self, store):
        pass

    def load_own_variables(self, store):
        pass

    def get_config(self):
        return {"name": self.name,
                "discriminator_optimizer": _backend_neutral(self.discriminator_optimizer),
                "generator_optimizer": _backend_neutral(self.generator_optimizer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("discriminator_optimizer", "generator_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
        return cls(**config)


class AdversarialModel(keras.Model):
    """Two players trained in alternation; subclasses write their two losses.

    One training step, on every backend:

    1. the discriminator's weights move down the gradient of
       ``discriminator_loss``, with the discriminator's optimizer;
    2. the generator's weights move down the gradient of ``generator_loss``,
       computed with the discriminator as step 1 left it, with the
       generator's optimizer.

    The roles are generic: in a GAN the generator maps noise to samples; in an
    adversarial autoencoder the "generator" is the autoencoder (its loss is
    reconstruction plus fooling a discriminator that tells its codes from
    prior samples). Both losses are scalars written once in ``keras.ops``;
    they draw random numbers with ``self.seed_generator`` (a
    ``keras.random.SeedGenerator``, so sampling works inside JAX's jit and
    its state is saved: a reloaded model draws the noise the original would
    have drawn next). ``fit``, ``evaluate`` and validation report the mean
    ``d_loss`` and ``g_loss`` over the epoch.

    Args:
        discriminator: the player updated first (discriminator, critic); built.
        generator: the player updated second (generator, encoder); built.
        seed: seed of ``self.seed_generator``.

    Call arguments:
        inputs: what the generator takes (noise for a GAN, inputs for an
            adversarial autoencoder); ``call`` returns the generator's output.

    Example, Goodfellow et al.'s GAN (``bce``: ``BinaryCrossentropy(from_logits=True)``):

        class GAN(AdversarialModel):
            def noise(self, x):
                return keras.random.normal((ops.shape(x)[0], 64), seed=self.seed_generator)

            def discriminator_loss(self, x, y=None, training=False):
                real = self.discriminator(x, training=training)
                fake = self.discriminator(self.generator(self.noise(x)), training=training)
                return bce(ops.ones_like(real), real) + bce(ops.zeros_like(fake), fake)

            def generator_loss(self, x, y=None, training=False):
                fake = self.discriminator(self.generator(self.noise(x)), training=training)
                return bce(ops.ones_like(fake), fake)  # non-saturating: -log D(G(z))

        gan = GAN(discriminator, generator, seed=0)
        gan.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))  # one Adam each
        gan.fit(real_images, epochs=10).history  # {"d_loss": [...], "g_loss": [...]}
    """

    def __init__(self, discriminator, generator, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.generator = generator
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = discriminator.built and generator.built

    def discriminator_loss(self, x, y=None, training=False):
        """The discriminator's scalar loss on a batch (``y``: targets, if ``fit`` got any)."""
        raise NotImplementedError

    def generator_loss(self, x, y=None, training=False):
        """The generator's scalar loss on a batch, against the current discriminator."""
        raise NotImplementedError

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def player_variables(self):
        """(discriminator's, generator's) trainable variables: what each optimizer updates."""
        return self.discriminator.trainable_variables, self.generator.trainable_variables

    def compile(self, optimizer="adam", **kwargs):
        """``optimizer``: an ``OptimizerPair``, or one optimizer that the discriminator
        gets and a fresh copy of which (same config) the generator gets. The losses
        are the model's own, so ``loss`` and ``metrics`` are refused. Under the
        mixed_float16 policy each optimizer is wrapped in a ``LossScaleOptimizer``,
        which scales its player's loss, as Keras wraps a one-loss model's."""
        if kwargs.get("loss") is not None or kwargs.get("metrics") is not None:
            raise ValueError("an AdversarialModel's losses are its discriminator_loss and generator_loss")
        optimizer = keras.optimizers.get(optimizer)
        if not isinstance(optimizer, OptimizerPair):
            optimizer = OptimizerPair(optimizer, optimizer.__class__.from_config(optimizer.get_config()))
        if self.dtype_policy.name == "mixed_float16":
            for key in ("discriminator_optimizer", "generator_optimizer"):
                player_optimizer = getattr(optimizer, key)
                if not isinstance(player_optimizer, keras.optimizers.LossScaleOptimizer):
                    setattr(optimizer, key, keras.optimizers.LossScaleOptimizer(
                        player_optimizer, name=f"{key}_loss_scale"))
        optimizer.players = self.player_variables
        super().compile(optimizer=optimizer, **{**kwargs, "auto_scale_loss": False})

    def compile_from_config(self, config):
        """Compile as the ``.keras`` file says, so ``load_model`` restores both optimizers."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def _players(self):
        """(player, its loss, its optimizer), in the order they move."""
        return [(self.discriminator, self.discriminator_loss, self.optimizer.discriminator_optimizer),
                (self.generator, self.generator_loss, self.optimizer.generator_optimizer)]

    def _record(self, x, d_loss, g_loss):
        batch_size = keras.ops.shape(keras.tree.flatten(x)[0])[0]
        self.d_loss_tracker.update_state(d_loss, sample_weight=batch_size)
        self.g_loss_tracker.update_state(g_loss, sample_weight=batch_size)
        return {m.name: m.result() for m in self.metrics}

    # --- The training step, one per backend ----------------------------------------
    def train_step(self, *args):
        """``fit``'s step: ``train_step(data)``, on JAX ``train_step(state, data)``."""
        return getattr(self, f"_train_step_{keras.backend.backend()}")(*args)

    def _train_step_tensorflow(self, data):
        import tensorflow as tf

        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        losses = []
        for player, loss_fn, optimizer in self._players():
            with tf.GradientTape() as tape:
                loss = loss_fn(x, y, training=True)
                scaled = optimizer.scale_loss(loss)  # mixed_float16: times the loss scale
            grads = tape.gradient(scaled, player.trainable_variables)
            optimizer.apply(grads, player.trainable_variables)
            losses.append(loss)
        return self._record(x, *losses)

    def _train_step_torch(self, data):
        import torch

        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        losses = []
        for player, loss_fn, optimizer in self._players():
            self.zero_grad()  # drop the gradients the other player's loss left behind
            loss = loss_fn(x, y, training=True)
            optimizer.scale_loss(loss).backward()
            grads = [v.value.grad for v in player.trainable_variables]
            with torch.no_grad():
                optimizer.apply(grads, player.trainable_variables)
            losses.append(loss)
        return self._record(x, *losses)

    def _train_step_jax(self, state, data):
        """Stateless, as jit needs: every variable's value comes in ``state`` and the
        new values go out. Inside one ``StatelessScope`` the step reads and assigns
        variables as the other backends do; only the gradient needs a pure function."""
        import jax

        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        variables = self._jax_state_variables(training=True)
        with keras.StatelessScope(state_mapping=_pairs(variables, state)) as scope:
            losses = []
            for player, loss_fn, optimizer in self._players():
                mine = player.trainable_variables
                others = [v for v in self.variables if id(v) not in {id(m) for m in mine}]

                def loss_and_updates(values):
                    """The (scaled) loss as a function of the player's weights; the rest as
                    they stand."""
                    mapping = [(v, v.value) for v in others] + list(zip(mine, values))
                    with keras.StatelessScope(state_mapping=mapping) as inner:
                        loss = loss_fn(x, y, training=True)
                    updates = [inner.get_current_value(v) for v in self.non_trainable_variables]
                    return optimizer.scale_loss(loss), (loss, updates)

                (_, (loss, updates)), grads = jax.value_and_grad(loss_and_updates, has_aux=True)(
                    [v.value for v in mine])
                for variable, value in zip(self.non_trainable_variables, updates):
                    variable.assign(value)  # the seed generator's state, batch-norm statistics
                # Stateless: a LossScaleOptimizer's stateful apply branches (ops.cond) on
                # whether the gradients are finite, and a jit trace cannot assign inside one.
                new_weights, new_state = optimizer.stateless_apply(
                    [v.value for v in optimizer.variables], grads, [v.value for v in mine])
                for variable, value in zip([*mine, *optimizer.variables], [*new_weights, *new_state]):
                    variable.assign(value)
                losses.append(loss)
            logs = self._record(x, *losses)
        return logs, _current_values(scope, variables)

    # --- Evaluation: both losses, no update ----------------------------------------
    def test_step(self, *args):
        if keras.backend.backend() != "jax":
            return self._losses_only(*args)
        state, data = args
        variables = self._jax_state_variables(training=False)
        with keras.StatelessScope(state_mapping=_pairs(variables, state)) as scope:
            logs = self._losses_only(data)
        return logs, _current_values(scope, variables)

    def _losses_only(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._record(x, self.discriminator_loss(x, y, training=False),
                            self.generator_loss(x, y, training=False))

    def _jax_state_variables(self, training):
        """The variables behind the JAX trainer's state tuple, in its order."""
        optimizer = [self.optimizer.variables] if training else []
        return [self.trainable_variables, self.non_trainable_variables, *optimizer,
                self.metrics_variables]

    # --- Saving: Keras saves no SeedGenerator's state; this model saves its own ----
    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["seed_generator"] = self.seed_generator.state

    def load_own_variables(self, store):
        self.seed_generator.state.assign(store["seed_generator"])
        super().load_own_variables({k: store[k] for k in store.keys() if k != "seed_generator"})

    def get_config(self):
        return {**super().get_config(), "seed": self.seed,
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "generator": keras.saving.serialize_keras_object(self.generator)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("discriminator", "generator"):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
        return cls(**config)


def _pairs(variables, values):
    return [pair for vs, xs in zip(variables, values) for pair in zip(vs, xs)]


def _current_values(scope, variables):
    return tuple([scope.get_current_value(v) for v in vs] for vs in variables)
