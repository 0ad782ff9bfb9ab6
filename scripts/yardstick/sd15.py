"""sd15-unet-infer: diffusers' UNet2DConditionModel with Stable Diffusion 1.5's UNet config
(random weights, 859,520,964 parameters) and DDIMScheduler, one step of StableDiffusionPipeline's
denoising loop (mlspeed's workloads/sd15_unet.cpp):

    latent_model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
    noise_pred = unet(latent_model_input, t, encoder_hidden_states=context, return_dict=False)[0]
    noise_uncond, noise_text = noise_pred.chunk(2)
    noise_pred = noise_uncond + 7.5 * (noise_text - noise_uncond)
    latents_next = scheduler.step(noise_pred, t, latents, return_dict=False)[0]

under torch.inference_mode, the UNet in fp16/bf16 for those dtypes (the pipeline's torch_dtype)
and channels-last (diffusers' speed-up guide; mlspeed does the same), t = 981 (the first of the
50-step DDIM schedule of SD 1.5, steps_offset 1), context (2B, 77, 768) random normal (the text
encoder is outside the loop). The next latents are not fed back: every step is the same work.
Compiled modes compile the UNet (pipe.unet = torch.compile(pipe.unet, mode=...), as diffusers'
guide); the scheduler step stays eager. mlspeed's sizes small (half the width, 32 x 32 latents)
and tiny are the same code on smaller UNet configs.
"""
import torch

from .common import (DTYPES, HarnessError, Shape, Step, check_count, compile_module, count_params,
                     default_device_context, import_diffusers)

# stable-diffusion-v1-5's unet/config.json
SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, center_input_sample=False, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, downsample_padding=1, mid_block_scale_factor=1,
    act_fn="silu", norm_num_groups=32, norm_eps=1e-5, cross_attention_dim=768, attention_head_dim=8,
)
# stable-diffusion-v1-5's scheduler/scheduler_config.json values, with DDIM (mlspeed's update).
SD15_SCHEDULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                      clip_sample=False, set_alpha_to_one=False, steps_offset=1)
GUIDANCE, STEPS, CONTEXT_TOKENS = 7.5, 50, 77
# mlspeed's sizes (workloads/sd15_unet.cpp): the UNet config and its parameter count.
SIZES = {
    "full": (SD15_UNET, 859_520_964),
    # The same structure at half the width, 256 x 256 images (32 x 32 latents).
    "small": (dict(SD15_UNET, block_out_channels=(160, 320, 640, 640), sample_size=32), 219_789_284),
    # Two levels (one attending), one resnet per block, 2 heads, a 32-wide context, 8 x 8 latents.
    "tiny": (dict(SD15_UNET, block_out_channels=(16, 32), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), layers_per_block=1, attention_head_dim=2,
                  cross_attention_dim=32, norm_num_groups=8, sample_size=8), 203_204),
}


class Sd15UnetInference:
    name = "sd15-unet-infer"
    job = "infer"
    peers = ("diffusers UNet2DConditionModel (SD 1.5 config) + DDIMScheduler.step",)

    sizes = tuple(SIZES)

    def shapes(self, size):
        return [Shape(1)]

    def open(self, device, dtype_name, size):
        return _Session(device, dtype_name, *SIZES[size])


class _Session:
    def __init__(self, device, dtype_name, config, expected):
        diffusers = import_diffusers()
        self.device, self.dtype, self.config = device, DTYPES[dtype_name], config
        torch.manual_seed(0)
        with default_device_context(device):
            unet = diffusers.UNet2DConditionModel(**config)
        check_count("sd15-unet-infer (UNet2DConditionModel)", count_params(unet), expected)
        self.unet = unet.to(device=device, dtype=self.dtype).eval().to(memory_format=torch.channels_last)
        self.scheduler = diffusers.DDIMScheduler(**SD15_SCHEDULER)
        self.scheduler.set_timesteps(STEPS, device=device)
        self.t = self.scheduler.timesteps[0]
        if int(self.t) != 981:
            raise HarnessError(f"DDIM's first timestep of {STEPS} is {int(self.t)}, expected 981")

    def prepare(self, shape, mode):
        unet, scheduler, t = compile_module(self.unet, mode), self.scheduler, self.t
        generator = torch.Generator().manual_seed(0)
        size = self.config["sample_size"]
        latents = torch.randn(shape.batch, 4, size, size, generator=generator).to(self.device, self.dtype)
        context = torch.randn(2 * shape.batch, CONTEXT_TOKENS, self.config["cross_attention_dim"],
                              generator=generator).to(self.device, self.dtype)

        def step():
            with torch.inference_mode():
                model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
                noise = unet(model_input, t, encoder_hidden_states=context, return_dict=False)[0]
                uncond, text = noise.chunk(2)
                noise = uncond + GUIDANCE * (text - uncond)
                return scheduler.step(noise, t, latents, return_dict=False)[0]

        return Step(step, 1, "steps", note=f"x{STEPS} steps per image")

    def close(self):
        self.unet = self.scheduler = None


def workloads():
    return [Sd15UnetInference()]
