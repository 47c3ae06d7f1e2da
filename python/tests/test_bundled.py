"""The `ferry` console script of the release wheel (ferry._bundled), in an install without the bundle."""
import ferry._bundled as bundled


def test_source_install_has_no_bundled_binary(capsys):
    assert bundled.executable() is None
    assert bundled.main() == 1
    assert "no bundled ferry binary" in capsys.readouterr().err
