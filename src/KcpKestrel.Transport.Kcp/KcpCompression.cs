namespace KcpKestrel.Transport.Kcp;

/// <summary>Compression of a session's byte stream, below smux (as kcptun compresses).</summary>
public enum KcpCompression
{
    /// <summary>Bytes go to KCP as the app (or smux) writes them; kcptun's <c>--nocomp</c>.</summary>
    None,

    /// <summary>The snappy framing format over the whole session, as kcptun does by default.</summary>
    Snappy,
}
