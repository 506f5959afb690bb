"""common.video: frames decoded lazily with their times, sampled by stride or by rate (variable frame
rate included), rotation applied, damaged files named; the H.264 writer's files read back."""

from fractions import Fraction

import av
import numpy as np
import pytest

from common import video
from common.cli import StageError


def _ramp(i, h=120, w=160):
    """A frame whose left columns up to 4*i are bright: the frame number can be read back."""
    rgb = np.full((h, w, 3), 30, np.uint8)
    rgb[:, : 4 * i + 4] = 220
    return rgb


def _number(rgb):
    return int(round((rgb[60, :, 0] > 125).sum() / 4)) - 1


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    with video.VideoWriter(path, 25) as writer:
        for i in range(30):
            writer.write(_ramp(i))
    return path


def test_h264_mp4_reads_back_every_frame_in_order_with_its_time(clip):
    info = video.probe(clip)
    assert (info.fps, info.frames, info.width, info.height, info.rotation) == (25.0, 30, 160, 120, 0)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")  # what browsers play
    frames = list(video.read_frames(clip))
    assert [f.index for f in frames] == list(range(30))
    assert [_number(f.rgb) for f in frames] == list(range(30))
    np.testing.assert_allclose([f.time for f in frames], np.arange(30) / 25, atol=1e-6)


def test_reading_is_lazy(clip):
    frames = video.read_frames(clip)
    first = next(frames)  # one frame decoded, the rest not yet
    assert first.index == 0 and first.rgb.shape == (120, 160, 3)
    frames.close()


def test_every_and_fps_sample_by_stride_and_by_time(clip):
    assert [f.index for f in video.read_frames(clip, every=7)] == [0, 7, 14, 21, 28]
    assert [f.index for f in video.read_frames(clip, fps=5)] == [0, 5, 10, 15, 20, 25]
    with pytest.raises(StageError, match="found both"):
        list(video.read_frames(clip, fps=5, every=2))


def test_variable_frame_rate_is_sampled_by_presentation_time(tmp_path):
    """Frames 0.1 s apart, then 0.02 s apart: --fps 5 keeps one per 0.2 s of time, not of count."""
    path = tmp_path / "vfr.mkv"
    times = [0.0, 0.1, 0.2, 0.3, 0.4] + [0.42 + 0.02 * k for k in range(15)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=50)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(_ramp(i), format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    frames = list(video.read_frames(path))
    np.testing.assert_allclose([f.time for f in frames], times, atol=2e-3)
    kept = [f.time for f in video.read_frames(path, fps=5)]
    np.testing.assert_allclose(kept, [0.0, 0.2, 0.4, 0.6], atol=2e-3)  # 20 frames, 0.7 s


def test_rotation_metadata_turns_frames_upright(tmp_path):
    """A phone stores a portrait frame turned and a display matrix that turns it back."""
    upright = np.zeros((120, 160, 3), np.uint8)
    upright[:30] = 255  # a bright band at the top
    path = tmp_path / "turned.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 120, 160, "yuv420p"
        stream.set_display_rotation(90)
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(np.rot90(upright, -1)),
                                                                   format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    info = video.probe(path)
    assert (info.width, info.height, info.rotation) == (160, 120, 90)
    frame = next(video.read_frames(path))
    assert frame.rgb.shape == (120, 160, 3)
    assert frame.rgb[:30].mean() > 240 and frame.rgb[40:].mean() < 15


def test_a_cut_short_file_gives_its_frames_and_says_so(clip, tmp_path, capsys):
    data = clip.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])
    frames = list(video.read_frames(tmp_path / "cut.mp4"))
    assert 0 < len(frames) < 30
    assert [_number(f.rgb) for f in frames] == list(range(len(frames)))
    warning = capsys.readouterr().err
    assert "warning:" in warning and "cut.mp4" in warning and "states 30 frames" in warning


def test_a_folder_of_frames_reads_as_a_video(tmp_path):
    from PIL import Image

    for i in (0, 1, 2, 10):
        Image.fromarray(_ramp(i)).save(tmp_path / f"{i:05d}.png")
    frames = list(video.read_frames(tmp_path))
    assert [_number(f.rgb) for f in frames] == [0, 1, 2, 10]
    assert frames[1].time == pytest.approx(1 / video.FOLDER_FPS)
    assert video.probe(tmp_path).frames == 4


def test_writer_leaves_nothing_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with video.VideoWriter(tmp_path / "out.mp4", 25) as writer:
            writer.write(_ramp(0))
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_odd_sizes_are_padded_and_a_changed_size_is_refused(tmp_path):
    with pytest.raises(StageError, match="expected frames of 162x120, found 100x80"):
        with video.VideoWriter(tmp_path / "odd.mp4", 25) as writer:
            writer.write(np.zeros((120, 161, 3), np.uint8))
            writer.write(np.zeros((80, 100, 3), np.uint8))
    with video.VideoWriter(tmp_path / "odd.mp4", 25) as writer:
        writer.write(np.zeros((120, 161, 3), np.uint8))
    assert (video.probe(tmp_path / "odd.mp4").width, video.probe(tmp_path / "odd.mp4").height) == (162, 120)
