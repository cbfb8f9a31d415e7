namespace KcpKestrel.Smux.Frames;

/// <summary>An smux frame header: <c>ver u8 | cmd u8 | length u16 LE | sid u32 LE</c>.</summary>
internal readonly record struct SmuxFrameHeader(byte Version, SmuxCommand Command, ushort Length, uint StreamId);
