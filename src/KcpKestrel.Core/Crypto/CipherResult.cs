namespace KcpKestrel.Core.Crypto;

/// <summary>Outcome of <see cref="PacketCipher.Open(Span{byte}, out int, out int)"/>; every value but <see cref="Ok"/> is a drop reason.</summary>
internal enum CipherResult
{
    /// <summary>The datagram decrypted and passed its integrity check.</summary>
    Ok = 0,

    /// <summary>Shorter than the cipher's header (and trailer): cannot be a datagram of this mode.</summary>
    TooShort,

    /// <summary>kcp-go modes: the CRC-32 after decryption did not match (noise, wrong key or forgery).</summary>
    ChecksumMismatch,

    /// <summary>AEAD modes: the tag did not verify (wrong key, corruption or forgery).</summary>
    AuthenticationFailed,

    /// <summary>AEAD modes with a <see cref="ReplayWindow"/>: the sequence was already seen or is older than the window.</summary>
    Replayed,

    /// <summary>AEAD modes with a <see cref="ReplayWindow"/>: the sender prefix differs from the one the window is bound to.</summary>
    UnknownSender,

    /// <summary>
    /// kcp-go modes with an <see cref="IPayloadPrefixCheck"/>: the decrypted first bytes cannot start a datagram
    /// the receiver accepts (noise, wrong key or a blind forgery), so the rest was not decrypted.
    /// </summary>
    Implausible,
}
