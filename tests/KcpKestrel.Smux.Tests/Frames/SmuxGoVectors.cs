namespace KcpKestrel.Smux.Tests.Frames;

/// <summary>
/// What tests/GoVectors/smux/main.go printed on Debian's smux 1.5.16: the bytes each side of a session wrote for
/// open, "hello", echo "world", close (client first, then server). v2 adds the UPD smux sends at a stream's first read.
/// </summary>
internal static class SmuxGoVectors
{
    public const string V1Client = "0100000003000000010205000300000068656c6c6f0101000003000000";
    public const string V1Server = "0102050003000000776f726c640101000003000000";
    public const string V2Client = "0200000003000000020205000300000068656c6c6f020408000300000005000000000001000201000003000000";
    public const string V2Server = "020408000300000005000000000001000202050003000000776f726c640201000003000000";
}
